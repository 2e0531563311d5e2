// CI check: imagesent as another project gets it. Packs this checkout (`npm pack`), installs the
// tarball into a new project in a temporary folder with no host but the npm registry reachable,
// runs `imagesent demo` there and then the README's library example, as it is.
//
// Every install and run goes through a local proxy (HTTP(S)_PROXY, npm's proxy settings and
// onnxruntime-node's GLOBAL_AGENT_HTTP_PROXY) that lets through only the registry's host and
// refuses, and records, any other; one refused host fails the check, even when the step that
// asked for it went on without it. Usage: node scripts/check-packed-install.mjs
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Longest any one step may take. */
const STEP_TIMEOUT_MS = 5 * 60_000;

/** This environment without npm's per-run variables and onnxruntime-node's install choice. */
function cleanEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_/i.test(k) && !/^ONNXRUNTIME_NODE_INSTALL/.test(k),
    ),
  );
}

/**
 * Runs a step (asynchronously: the proxy answers from this process meanwhile), printing its time;
 * or throws with the tail of its output and why it failed. Resolves to its stdout.
 */
async function step(what, command, args, options) {
  const start = Date.now();
  const child = spawn(command, args, { timeout: STEP_TIMEOUT_MS, ...options });
  let stdout = "";
  let output = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const [code, signal] = await new Promise((done) => {
    child.on("error", (err) => done([err.message, null]));
    child.on("close", (c, s) => done([c, s]));
  });
  const seconds = ((Date.now() - start) / 1000).toFixed(0);
  if (code !== 0) {
    const tail = output.trimEnd().split("\n").slice(-40).join("\n");
    const why = signal ? `killed by ${signal}` : `exit code ${code}`;
    throw new Error(`${what} failed after ${seconds} s (${why}):\n${tail}`);
  }
  console.log(`packed install: ${what} (${seconds} s)`);
  return stdout;
}

/** A proxy that tunnels (CONNECT) or forwards (plain HTTP) to `allowed` hosts only. */
function startProxy(allowed, refused) {
  const server = http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!allowed.has(url.hostname)) {
      refused.add(url.host);
      res.writeHead(403).end(`${url.host} is not the npm registry`);
      return;
    }
    const upstream = http.request(url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connect", (req, socket, head) => {
    const [host, port] = req.url.split(":");
    if (!allowed.has(host)) {
      refused.add(req.url);
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = net.connect(Number(port) || 443, host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done(server)));
}

/** The README's library example (the first ts block under "## Library API"). */
function readmeExample() {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /^## Library API\n[\s\S]*?^```ts\n([\s\S]*?)^```/m.exec(readme);
  if (!m) throw new Error("README.md: no ts code block under '## Library API'");
  return m[1];
}

const work = mkdtempSync(join(tmpdir(), "imagesent-packed-"));
const refused = new Set();
let proxy;
try {
  const env = cleanEnv();
  const registry = new URL(
    (await step("registry", "npm", ["config", "get", "registry"], { cwd: root, env })).trim(),
  );
  proxy = await startProxy(new Set([registry.hostname]), refused);
  const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  const limited = {
    ...env,
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    npm_config_proxy: proxyUrl,
    npm_config_https_proxy: proxyUrl,
    GLOBAL_AGENT_HTTP_PROXY: proxyUrl,
    NO_PROXY: "",
    no_proxy: "",
    IMAGESENT_HOME: join(work, "home"),
  };

  const packed = JSON.parse(
    await step("npm pack", "npm", ["pack", "--json", "--pack-destination", work], {
      cwd: root,
      env: limited,
    }),
  );
  const tarball = join(work, packed[0].filename);
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "packed-install-check", private: true, type: "module" })}\n`,
  );
  await step("npm install imagesent", "npm", ["install", "--no-audit", "--no-fund", tarball], {
    cwd: app,
    env: limited,
  });
  await step("imagesent demo", join(app, "node_modules", ".bin", "imagesent"), ["demo"], {
    cwd: app,
    env: limited,
  });
  writeFileSync(join(app, "example.mjs"), readmeExample());
  const printed = await step("README library example", process.execPath, ["example.mjs"], {
    cwd: app,
    env: limited,
  });
  if (printed.trim() === "") throw new Error("README library example printed nothing");
  if (refused.size > 0) {
    throw new Error(`hosts other than the npm registry were asked for: ${[...refused].join(", ")}`);
  }
  console.log("packed install: ok");
} catch (err) {
  console.error(`packed install: ${err.message}`);
  if (refused.size > 0) console.error(`packed install: refused ${[...refused].join(", ")}`);
  process.exitCode = 1;
} finally {
  proxy?.close();
  rmSync(work, { recursive: true, force: true });
}
