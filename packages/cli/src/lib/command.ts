// A small command framework on node:util parseArgs: every command declares its positional
// arguments and options once, and gets `--help`, usage errors (exit 2) and parsed values.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `N` for `--port N`. */
  value?: string;
  /** A boolean that also has a `--no-NAME` form (shown as `--[no-]NAME`). */
  negatable?: boolean;
  help: string;
}

export type Options = Record<string, OptionSpec>;

export interface Parsed {
  /** Positional arguments by declared name (rest arguments joined are in `positionals`). */
  args: Record<string, string | undefined>;
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

export interface Command {
  /** Full name without `portico`, e.g. `orgs create`. */
  name: string;
  summary: string;
  /** Positional arguments: `SLUG` required, `SLUG?` optional. */
  args?: string[];
  /** Extra text under the usage line. */
  description?: string;
  options?: Options;
  examples?: string[];
  run(p: Parsed): Promise<number | void>;
}

export interface Group {
  name: string;
  summary: string;
  description?: string;
  commands: Command[];
}

export const HELP: Options = { help: { type: 'boolean', short: 'h', help: 'show this help' } };
export const JSON_OPTION: Options = { json: { type: 'boolean', help: 'print machine-readable JSON' } };
export const CONNECTION: Options = {
  url: { type: 'string', value: 'URL', help: 'gateway URL (default $PORTICO_URL or http://127.0.0.1:8080)' },
  key: {
    type: 'string',
    value: 'TOKEN',
    help: 'API key or admin token (default $PORTICO_ADMIN_TOKEN, $PORTICO_API_KEY, ./data/admin-token)',
  },
};

function optionUsage(name: string, o: OptionSpec): string {
  const flag = o.type === 'boolean' && o.negatable ? `--[no-]${name}` : `--${name}`;
  const short = o.short ? `-${o.short}, ` : '';
  return `${short}${flag}${o.type === 'string' ? ' ' + (o.value ?? 'VALUE') : ''}`;
}

export function usageLine(cmd: Command): string {
  const args = (cmd.args ?? []).map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : a)).join(' ');
  return `portico ${cmd.name}${args ? ' ' + args : ''}${Object.keys(cmd.options ?? {}).length ? ' [options]' : ''}`;
}

export function commandHelp(cmd: Command): string {
  const opts = { ...(cmd.options ?? {}), ...HELP };
  const rows = Object.entries(opts).map(([n, o]) => [optionUsage(n, o), o.help] as const);
  const w = Math.max(...rows.map(([u]) => u.length));
  const lines = [`Usage: ${usageLine(cmd)}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  lines.push('', 'Options:', ...rows.map(([u, h]) => `  ${u.padEnd(w)}  ${h}`));
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function groupHelp(g: Group): string {
  const w = Math.max(...g.commands.map((c) => usageLine(c).length));
  const lines = [`Usage: portico ${g.name} <command> [options]`, '', g.summary];
  if (g.description) lines.push('', g.description);
  lines.push('', 'Commands:', ...g.commands.map((c) => `  ${usageLine(c).padEnd(w)}  ${c.summary}`));
  lines.push('', `Run 'portico ${g.name} <command> --help' for the options of one command.`);
  return lines.join('\n') + '\n';
}

/** parseArgs' messages are long and mention internals; keep the part a user needs. */
function parseArgsMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const m = /Unknown option '([^']+)'/.exec(msg);
    return m ? `unknown option '${m[1]}'` : 'unknown option';
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const m = /Option '([^']+)' argument missing/.exec(msg);
    if (m) return `option '${m[1]}' needs a value`;
    const n = /Option '([^']+)' does not take an argument/.exec(msg);
    if (n) return `option '${n[1]}' does not take a value`;
  }
  return msg.split('. ')[0]!.replace(/\.$/, '');
}

/** Parses `argv` for `cmd`; prints help and returns null on `--help`. */
export function parse(cmd: Command, argv: string[]): Parsed | null {
  if (argv.some((a) => a === '--secret' || a.startsWith('--secret='))) {
    throw new UsageError('secrets are never taken from the command line; pipe the secret on stdin or answer the prompt', cmd.name);
  }
  const specs = { ...(cmd.options ?? {}), ...HELP };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [n, o] of Object.entries(specs)) {
    options[n] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err), cmd.name);
  }
  const values = parsed.values as Parsed['values'];
  if (values.help) {
    process.stdout.write(commandHelp(cmd));
    return null;
  }
  // `--no-X` is only meaningful for negatable booleans.
  for (const [n, v] of Object.entries(values)) {
    if (v === false && !specs[n]?.negatable) throw new UsageError(`unknown option '--no-${n}'`, cmd.name);
  }
  const declared = cmd.args ?? [];
  const required = declared.filter((a) => !a.endsWith('?'));
  const positionals = parsed.positionals;
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required.slice(positionals.length).join(' ')}`, cmd.name);
  }
  if (positionals.length > declared.length) {
    throw new UsageError(`unexpected argument '${positionals[declared.length]}'`, cmd.name);
  }
  const args: Parsed['args'] = {};
  declared.forEach((a, i) => (args[a.replace(/\?$/, '')] = positionals[i]));
  return { args, positionals, values };
}

export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  const p = parse(cmd, argv);
  if (!p) return 0;
  return (await cmd.run(p)) ?? 0;
}

/**
 * Options may come before the subcommand name (`portico orgs --json list`): moves the leading
 * options after it. String options that take a value are listed so their value is skipped.
 */
export function splitCommand(argv: string[], valued: Set<string>): { name: string | undefined; rest: string[] } {
  const lead: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--' && argv[i] !== '-') {
    lead.push(argv[i]!);
    if (valued.has(argv[i]!) && i + 1 < argv.length) lead.push(argv[++i]!);
    i++;
  }
  return { name: argv[i], rest: [...argv.slice(i + 1), ...lead] };
}

export async function runGroup(g: Group, argv: string[]): Promise<number> {
  const valued = new Set<string>();
  for (const c of g.commands) {
    for (const [n, o] of Object.entries(c.options ?? {})) if (o.type === 'string') valued.add(`--${n}`);
  }
  const { name, rest } = splitCommand(argv, valued);
  if (name === undefined) {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(groupHelp(g));
      return 0;
    }
    throw new UsageError(`missing command: ${g.commands.map((c) => c.name.split(' ').pop()).join(', ')}`, g.name);
  }
  if (name === 'help') {
    process.stdout.write(groupHelp(g));
    return 0;
  }
  const cmd = g.commands.find((c) => c.name === `${g.name} ${name}`);
  if (!cmd) throw new UsageError(`unknown command '${g.name} ${name}'`, g.name);
  return runCommand(cmd, rest);
}

// ---------------------------------------------------------------------------------------------
// Value helpers

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function strs(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

export function flag(p: Parsed, name: string): boolean | undefined {
  const v = p.values[name];
  return typeof v === 'boolean' ? v : undefined;
}

export function oneOf<T extends string>(p: Parsed, name: string, allowed: readonly T[], cmd: string): T | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')} (got '${v}')`, cmd);
  return v as T;
}

export function intOption(p: Parsed, name: string, min: number, max: number, cmd: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max} (got '${v}')`, cmd);
  }
  return Number(v);
}
