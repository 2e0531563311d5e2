/** One CLI command: `imagesent <name> ...args`. */
export interface Command {
  readonly name: string;
  /** One line for `imagesent --help`. */
  readonly summary: string;
  /** Full usage text for `imagesent <name> --help`. */
  readonly usage: string;
  /** Returns the process exit code (0 when omitted). */
  run(args: string[]): Promise<number | undefined> | number | undefined;
}
