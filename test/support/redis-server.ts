import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** The redis-server binary on PATH (or in the sbin folders Debian uses), or undefined. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, "redis-server");
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/** `false` when redis-server is installed, else why the queue tests skip. */
export function skipUnlessRedis(): string | false {
  return findRedisServer()
    ? false
    : "no redis-server binary found (apt-get install redis-server; .ci/run installs it)";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something on 127.0.0.1:port answers PING with PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      reply += String(d);
      if (reply.includes("\r\n")) socket.end();
    });
    socket.on("close", () => resolve(reply.startsWith("+PONG")));
    socket.on("error", () => resolve(false));
  });
}

/**
 * A redis-server of the test's own, on a free 127.0.0.1 port, in a temporary folder, keeping
 * nothing on disk (a restart starts empty, as a Redis without persistence does).
 */
export class TestRedis {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "imagesent-redis-"));

  private constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  static async start(): Promise<TestRedis> {
    const binary = findRedisServer();
    if (!binary) throw new Error("no redis-server binary");
    const redis = new TestRedis(binary, await freePort());
    await redis.restart();
    return redis;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** redis://127.0.0.1:PORT/NAME. */
  url(name: string): string {
    return `redis://127.0.0.1:${this.port}/${name}`;
  }

  /** Starts the server (again, on the same port) and waits until it answers. */
  async restart(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir];
    const child = spawn(this.binary, [...args, "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    this.process = child;
    const deadline = Date.now() + 10_000;
    while (!(await pong(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("redis-server did not answer within 10 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the server (SIGKILL: what it held in memory is gone) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
