// The two ways a command fails. main.ts prints either as ONE line on stderr:
// `portico: <message>`; a CliError exits 1, a UsageError exits 2.

/** Something went wrong while doing what was asked (HTTP error, file not writable, …): exit 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong (unknown option, missing argument, bad value): exit 2. */
export class UsageError extends Error {
  /** The command whose `--help` to point at, e.g. `orgs create`. */
  command: string | null;
  constructor(message: string, command: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** One printable line: control characters and runs of white space become one space. */
export function oneLine(text: string, max = 600): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
