import { homedir } from "node:os";
import { join } from "node:path";

/** Where imagesent keeps its caches (models, bundles): $IMAGESENT_HOME, else ~/.cache/imagesent. */
export function imagesentHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.IMAGESENT_HOME ?? join(homedir(), ".cache", "imagesent");
}
