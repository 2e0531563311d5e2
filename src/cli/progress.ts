/**
 * Progress reporting for long jobs: a one-line bar redrawn in place on a TTY, plain log lines
 * (at most one every `logEverySeconds`) otherwise. Shows items/s and the ETA.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  logEverySeconds?: number;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private extra = "";
  /** What the last drawn line showed, so `finish` does not log the same state twice. */
  private drawn = { done: -1, extra: "" };
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Advances by `n` items; `extra` (e.g. "loss 1.23") is shown after the rate. */
  tick(n = 1, extra?: string): void {
    this.done += n;
    if (extra !== undefined) this.extra = extra;
    const now = Date.now();
    const every = this.tty ? 100 : (this.opts.logEverySeconds ?? 10) * 1000;
    if (now - this.lastDraw >= every || this.done >= this.opts.total) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  /** Ends the bar (on a TTY) and prints the final line. */
  finish(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    if (this.tty || this.drawn.done !== this.done || this.drawn.extra !== this.extra) {
      this.draw(Date.now());
    }
    if (this.tty) this.stream.write("\n");
  }

  line(now = Date.now()): string {
    const secs = Math.max((now - this.start) / 1000, 1e-9);
    const rate = this.done / secs;
    const left = this.opts.total - this.done;
    const eta = rate > 0 && left > 0 ? formatSeconds(left / rate) : "0s";
    const unit = this.opts.unit ?? "items";
    const pct = this.opts.total > 0 ? ((100 * this.done) / this.opts.total).toFixed(1) : "100.0";
    const tail = this.extra ? ` ${this.extra}` : "";
    return `${this.opts.label} ${this.done}/${this.opts.total} (${pct}%) ${rate.toFixed(1)} ${unit}/s ETA ${eta}${tail}`;
  }

  private draw(now: number): void {
    this.drawn = { done: this.done, extra: this.extra };
    if (this.tty) this.stream.write(`\r\x1b[K${this.line(now)}`);
    else this.stream.write(`${this.line(now)}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
