// preinstall: lets `npm install imagesent` work with only the npm registry reachable.
//
// On linux-x64, onnxruntime-node's postinstall (its script/install.js) downloads its CUDA
// execution provider from api.nuget.org whenever the files its script/install-metadata.js lists are
// missing from its folder, unless ONNXRUNTIME_NODE_INSTALL or --onnxruntime-node-install says
// otherwise; offline or behind a registry mirror that fails the whole install. imagesent runs its
// models on the CPU provider, which the npm package ships. npm runs every package's preinstall
// before any package's postinstall, so this puts empty placeholders under those names first and
// onnxruntime-node finds nothing to download. It leaves onnxruntime-node alone where the user
// chose (either setting above) or where its CUDA provider could run (an NVIDIA driver is loaded);
// `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` puts the real files in their place.
// (In this checkout, package.json's allowScripts denies onnxruntime-node's postinstall instead: a
// project's own preinstall runs after its dependencies' postinstall.)
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const chosen = [
  "ONNXRUNTIME_NODE_INSTALL",
  "ONNXRUNTIME_NODE_INSTALL_CUDA",
  "npm_config_onnxruntime_node_install",
  "npm_config_onnxruntime_node_install_cuda",
].some((name) => process.env[name]);

/** onnxruntime-node's folder as imagesent resolves it, and its install metadata; or undefined. */
function onnxruntime() {
  const require = createRequire(import.meta.url);
  try {
    const dir = dirname(require.resolve("onnxruntime-node/package.json"));
    return { dir, metadata: require(join(dir, "script", "install-metadata.js")) };
  } catch {
    return undefined;
  }
}

const ort = chosen || existsSync("/proc/driver/nvidia/version") ? undefined : onnxruntime();
if (ort) {
  const platform = `${process.platform}/${process.arch}`;
  const placed = [];
  for (const name of ort.metadata.requirements?.[platform] ?? []) {
    for (const file of Object.keys(ort.metadata.manifests?.[`${platform}:${name}`] ?? {})) {
      const path = join(ort.dir, "bin", "napi-v6", platform, file);
      if (existsSync(path)) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, "");
      placed.push(path);
    }
  }
  if (placed.length > 0) {
    console.log(
      `imagesent: onnxruntime-node's CUDA provider is not downloaded (imagesent runs on the CPU); ` +
        `empty placeholders: ${placed.join(", ")}`,
    );
  }
}

// LanceDB's optional @huggingface/transformers (embedding functions imagesent does not use)
// brings its own older onnxruntime-node, whose postinstall fetches the CUDA provider from
// github.com when libonnxruntime_providers_cuda.so is missing from bin/napi-v3/linux/x64.
function nestedOnnxruntime() {
  const require = createRequire(import.meta.url);
  // Found by folder: its package.json "exports" does not list package.json itself.
  const transformers = (require.resolve.paths("@huggingface/transformers") ?? [])
    .map((p) => join(p, "@huggingface", "transformers"))
    .find((p) => existsSync(join(p, "package.json")));
  if (!transformers) return undefined;
  try {
    const dir = dirname(
      createRequire(join(transformers, "package.json")).resolve("onnxruntime-node/package.json"),
    );
    return dir === ort?.dir ? undefined : dir;
  } catch {
    return undefined;
  }
}

const nested =
  chosen || existsSync("/proc/driver/nvidia/version") || process.platform !== "linux"
    ? undefined
    : nestedOnnxruntime();
const nestedBin = nested && join(nested, "bin", "napi-v3", "linux", "x64");
if (nestedBin && existsSync(nestedBin)) {
  const path = join(nestedBin, "libonnxruntime_providers_cuda.so");
  if (!existsSync(path)) {
    writeFileSync(path, "");
    console.log(`imagesent: ${path}: empty placeholder (imagesent runs on the CPU)`);
  }
}
