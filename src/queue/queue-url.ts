import { InputError } from "../errors.js";

/** Where a job queue lives: a Redis server and the queue's name on it. */
export interface QueueAddress {
  readonly host: string;
  readonly port: number;
  /** The BullMQ queue name: every enqueuer and worker of one run use the same one. */
  readonly name: string;
  /** The address as the user wrote it, normalised: redis://HOST:PORT/NAME. */
  readonly url: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Reads `--queue redis://HOST:PORT/NAME` (port 6379 when omitted). The path is the queue's name,
 * not a database number: BullMQ keeps all of a queue's keys under it.
 */
export function parseQueueUrl(value: string, flag = "--queue"): QueueAddress {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${flag}: expected redis://HOST:PORT/NAME, got "${value}"`);
  }
  if (url.protocol !== "redis:")
    throw new InputError(`${flag}: expected a redis:// address, got "${value}"`);
  if (url.username || url.password || url.search || url.hash)
    throw new InputError(`${flag}: user, password, ?query and #fragment are not supported`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new InputError(`${flag}: "${value}" names no host`);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!NAME.test(name)) {
    throw new InputError(
      `${flag}: the queue name (redis://HOST:PORT/NAME) must be 1 to 100 letters, digits, '.', '_' or '-', got "${name}"`,
    );
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  return { host, port, name, url: `redis://${url.host}/${name}` };
}
