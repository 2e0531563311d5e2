/** One CLI command: `imagesent <name> ...args`. */
export interface Command {
  readonly name: string;
  /** The page `imagesent <name> --help` prints, laid out by renderHelp (help.ts) as every command's is. */
  readonly usage: string;
  /** Returns the process exit code (0 when omitted). */
  run(args: string[]): Promise<number | undefined> | number | undefined;
}
