import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { InputError } from "../errors.js";
import { imagesentHome } from "../home-dir.js";
import { type OnnxGraph, readOnnxGraph } from "./onnx-proto.js";

/**
 * The local model cache: NAME.onnx files under $IMAGESENT_HOME/models (default
 * ~/.cache/imagesent/models), so configs name models rather than paths and a fetched model is
 * found offline afterwards. Nothing here touches the network except `fetchModel`, which only the
 * user's `imagesent models fetch` calls.
 */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(imagesentHome(env), "models");
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!NAME.test(name) || name.endsWith(".onnx")) {
    throw new InputError(
      `model name '${name}' must be letters, digits, '.', '_' or '-', without .onnx`,
    );
  }
}

export interface CachedModel {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class ModelRegistry {
  constructor(readonly dir: string = modelCacheDir()) {}

  pathOf(name: string): string {
    checkName(name);
    return join(this.dir, `${name}.onnx`);
  }

  list(): CachedModel[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(".onnx") && !f.startsWith("."))
      .sort()
      .map((f) => {
        const path = join(this.dir, f);
        return { name: f.slice(0, -".onnx".length), path, bytes: statSync(path).size };
      });
  }

  /**
   * Copies a local file into the cache under `name` (replacing any model of that name); a file
   * that is not an ONNX model is refused.
   */
  add(name: string, file: string, sha256?: string): CachedModel {
    const path = this.pathOf(name);
    if (!existsSync(file)) throw new InputError(`${file}: model file not found`);
    if (!statSync(file).isFile()) throw new InputError(`${file}: not a file`);
    const data = readFileSync(file);
    if (sha256) verify(data, sha256, file);
    checkOnnxModel(data, file);
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path, data);
    return { name, path, bytes: data.length };
  }

  remove(name: string): boolean {
    const path = this.pathOf(name);
    if (!existsSync(path)) return false;
    rmSync(path);
    return true;
  }

  /**
   * Downloads `url` into the cache under `name`, refusing it (and keeping nothing) unless its
   * sha256 is `sha256`.
   */
  async fetch(name: string, url: string, sha256: string): Promise<CachedModel> {
    const path = this.pathOf(name);
    let response: Response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new InputError(`${url}: download failed (${(err as Error).message})`);
    }
    if (!response.ok) throw new InputError(`${url}: download failed (HTTP ${response.status})`);
    const data = new Uint8Array(await response.arrayBuffer());
    verify(data, sha256, url);
    checkOnnxModel(data, url);
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path, data);
    return { name, path, bytes: data.length };
  }

  /**
   * The file of a model: `nameOrPath` itself when it is an existing file or looks like a path,
   * else the cached model of that name.
   */
  resolve(nameOrPath: string): string {
    if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return nameOrPath;
    if (nameOrPath.includes("/") || nameOrPath.includes("\\") || nameOrPath.endsWith(".onnx")) {
      throw new InputError(`${nameOrPath}: model file not found`);
    }
    const path = this.pathOf(nameOrPath);
    if (!existsSync(path)) {
      const key = (n: string) => n.toLowerCase().replace(/[-_.]/g, "");
      const near = this.list().find((m) => key(m.name) === key(nameOrPath));
      throw new InputError(
        `model '${nameOrPath}' is not in ${this.dir}${near ? ` (a model '${near.name}' is, but configs look this one up as '${nameOrPath}')` : ""}; add it with 'imagesent models add ${nameOrPath} FILE' or fetch it with 'imagesent models fetch'`,
      );
    }
    return path;
  }
}

/**
 * Refuses bytes that are not an ONNX model: a protobuf ModelProto whose graph has nodes and
 * outputs. `what` (the file or URL) names them in the error.
 */
export function checkOnnxModel(data: Uint8Array, what: string): void {
  let graph: OnnxGraph;
  try {
    graph = readOnnxGraph(data);
  } catch (err) {
    const why = (err as Error).message;
    throw new InputError(
      `${what}: ${why.startsWith("not an ONNX model") ? why : `not an ONNX model (${why})`}`,
    );
  }
  if (graph.nodes.length === 0 || graph.outputs.length === 0) {
    throw new InputError(
      `${what}: not an ONNX model (its graph has no ${graph.nodes.length === 0 ? "nodes" : "outputs"})`,
    );
  }
}

function verify(data: Uint8Array, sha256: string, what: string): void {
  const got = sha256Hex(data);
  if (got !== sha256.toLowerCase()) {
    throw new InputError(`${what}: sha256 mismatch (expected ${sha256.toLowerCase()}, got ${got})`);
  }
}
