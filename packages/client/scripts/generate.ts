// Generates packages/client/src/generated.ts from the catalog (catalog/*.json): one helper class
// per service with one typed method per endpoint, and `ExternalProxyClient` with a getter per
// service. The output is committed, so that the package never reads the catalog at run time.
//
//   node packages/client/scripts/generate.ts [--catalog DIR] [--out FILE] [--check]
//
// --check compares instead of writing, and exits 1 when the committed file is out of date.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CatalogEndpoint {
  slug: string;
  name: string;
  description: string;
  method: string;
  path_template: string;
  query_params: string[];
  request_mode: string;
  response_mode: string;
  deprecated?: boolean;
  sunset?: string;
}

export interface CatalogService {
  slug: string;
  name: string;
  description?: string;
  endpoints: CatalogEndpoint[];
}

export interface GenerateOptions {
  /** Where the generated module imports the client's sources from (default `./`, i.e. src/). */
  importBase?: string;
  /** Named in the header comment. */
  source?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CATALOG_DIR = resolve(here, '../../../catalog');
export const DEFAULT_OUT_FILE = resolve(here, '../src/generated.ts');

/** Members of the client that a service getter must not shadow. */
const RESERVED = new Set(['constructor', 'baseUrl', 'listServices', 'getService', 'getEndpoint', 'clearCache', 'invoke']);
const REQUEST_MODES = new Set(['json', 'multipart', 'none']);
const RESPONSE_MODES = new Set(['json', 'binary', 'stream']);

function fail(message: string): never {
  throw new Error(`catalog: ${message}`);
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') fail(`${what} must be a non-empty string`);
  return value;
}

/** Reads one catalog file's JSON into the fields the generator needs; tolerant of extra fields. */
export function readService(data: unknown, file = 'catalog entry'): CatalogService {
  if (typeof data !== 'object' || data === null) fail(`${file}: not a JSON object`);
  const d = data as Record<string, unknown>;
  const nested = typeof d.service === 'object' && d.service !== null ? (d.service as Record<string, unknown>) : {};
  const slug = asString(d.slug ?? nested.slug ?? (typeof d.service === 'string' ? d.service : undefined), `${file}: slug`);
  const endpoints = d.endpoints ?? nested.endpoints;
  if (!Array.isArray(endpoints)) fail(`${file}: endpoints must be an array`);
  return {
    slug,
    name: typeof (d.name ?? nested.name) === 'string' ? ((d.name ?? nested.name) as string) : slug,
    description: typeof (d.description ?? nested.description) === 'string' ? ((d.description ?? nested.description) as string) : undefined,
    endpoints: endpoints.map((raw: unknown, i: number) => {
      if (typeof raw !== 'object' || raw === null) fail(`${file}: endpoints[${i}] is not an object`);
      const e = raw as Record<string, unknown>;
      const where = `${file}: endpoints[${i}]`;
      const requestMode = asString(e.request_mode ?? 'none', `${where}.request_mode`);
      const responseMode = asString(e.response_mode ?? 'json', `${where}.response_mode`);
      if (!REQUEST_MODES.has(requestMode)) fail(`${where}.request_mode '${requestMode}' is not json, multipart or none`);
      if (!RESPONSE_MODES.has(responseMode)) fail(`${where}.response_mode '${responseMode}' is not json, binary or stream`);
      const query = Array.isArray(e.query_params) ? e.query_params : [];
      return {
        slug: asString(e.slug, `${where}.slug`),
        name: typeof e.name === 'string' ? e.name : String(e.slug),
        description: typeof e.description === 'string' ? e.description : '',
        method: asString(e.method, `${where}.method`).toUpperCase(),
        path_template: asString(e.path_template, `${where}.path_template`),
        query_params: query.map((q: unknown) =>
          asString(typeof q === 'object' && q !== null ? (q as Record<string, unknown>).name : q, `${where}.query_params`),
        ),
        request_mode: requestMode,
        response_mode: responseMode,
        deprecated: e.deprecated === true ? true : undefined,
        sunset: typeof e.sunset === 'string' ? e.sunset : undefined,
      };
    }),
  };
}

/** Every service file (`<slug>.json`) of the catalog folder, in file-name order; the JSON Schema is skipped. */
export function loadCatalog(dir: string = DEFAULT_CATALOG_DIR): CatalogService[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !/(^|\.)schema\.json$/.test(f))
    .sort()
    .map((f) => readService(JSON.parse(readFileSync(join(dir, f), 'utf8')), f));
}

function words(slug: string): string[] {
  return slug.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

export function camelCase(slug: string): string {
  const name = words(slug)
    .map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');
  return /^[0-9]/.test(name) ? `_${name}` : name || '_';
}

export function pascalCase(slug: string): string {
  const c = camelCase(slug).replace(/^_/, '');
  return c.charAt(0).toUpperCase() + c.slice(1);
}

function pathParams(template: string): string[] {
  return [...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
}

function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function list(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

function comment(text: string): string {
  return text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();
}

const RETURN_TYPES: Record<string, string> = {
  json: 'unknown',
  binary: 'Blob',
  stream: 'ReadableStream<Uint8Array>',
};

function method(service: CatalogService, e: CatalogEndpoint): string {
  const params = pathParams(e.path_template);
  const fields = params.map((p) => `${key(p)}: PathParamValue`);
  const queryUnion = e.query_params.length > 0 ? e.query_params.map((q) => JSON.stringify(q)).join(' | ') : 'never';
  const optionsType = `HelperOptions<${queryUnion}>`;
  let optional = false;
  if (e.request_mode === 'none') {
    // Query parameters may be named in the first argument; options.query takes them too.
    for (const q of e.query_params) if (!params.includes(q)) fields.push(`${key(q)}?: QueryValue | null`);
    optional = params.length === 0;
  } else {
    fields.push('[field: string]: unknown');
  }
  const paramsType = fields.length > 0 ? `{ ${fields.join('; ')} }` : 'Record<string, never>';
  const returnType = RETURN_TYPES[e.response_mode]!;
  const spec = `{ service: ${JSON.stringify(service.slug)}, action: ${JSON.stringify(e.slug)}, pathParams: ${list(params)}, queryParams: ${list(e.query_params)}, requestMode: ${JSON.stringify(e.request_mode)} }`;

  const doc: string[] = [];
  doc.push(`${comment(e.name)}${e.description ? ` — ${comment(e.description)}` : ''}`);
  doc.push('');
  doc.push(`\`${e.method} ${comment(e.path_template)}\`, request ${e.request_mode} → response ${e.response_mode} (\`${service.slug}/${e.slug}\`).`);
  if (params.length > 0) doc.push(`Path parameters (in \`params\`): ${params.map((p) => `\`${p}\``).join(', ')}.`);
  if (e.request_mode === 'json') doc.push('The other fields of `params` are the JSON body.');
  if (e.request_mode === 'multipart') doc.push('The other fields of `params` are the form fields (strings or `Blob`s).');
  if (e.query_params.length > 0) {
    const where = e.request_mode === 'none' ? '`params` or `options.query`' : '`options.query`';
    doc.push(`Query parameters (in ${where}): ${e.query_params.map((q) => `\`${q}\``).join(', ')}.`);
  }
  if (e.deprecated) doc.push(`@deprecated The provider retires this endpoint${e.sunset ? ` on ${e.sunset}` : ''}.`);

  const name = camelCase(e.slug);
  return [
    `  /**`,
    ...doc.map((l) => (l ? `   * ${l}` : '   *')),
    `   */`,
    `  ${name}(params${optional ? '?' : ''}: ${paramsType}, options?: ${optionsType}): Promise<${returnType}> {`,
    `    return callEndpoint(this.#client, ${spec}, params, options) as Promise<${returnType}>;`,
    `  }`,
  ].join('\n');
}

/** The text of generated.ts for `services`. */
export function generate(services: CatalogService[], options: GenerateOptions = {}): string {
  const base = options.importBase ?? './';
  const seen = new Set<string>();
  for (const s of services) {
    const getter = camelCase(s.slug);
    if (RESERVED.has(getter)) fail(`service '${s.slug}' would shadow ExternalProxyClient.${getter}`);
    if (seen.has(getter)) fail(`two services map to the getter '${getter}'`);
    seen.add(getter);
    const methods = new Set<string>();
    for (const e of s.endpoints) {
      const m = camelCase(e.slug);
      if (methods.has(m)) fail(`service '${s.slug}': two endpoints map to the method '${m}'`);
      methods.add(m);
    }
  }

  const out: string[] = [];
  out.push(`// Generated by packages/client/scripts/generate.ts from ${options.source ?? 'catalog/*.json'}. Do not edit:`);
  out.push(`// change the catalog and run \`node packages/client/scripts/generate.ts\`.`);
  out.push('');
  const endpoints = services.flatMap((s) => s.endpoints);
  const typeImports: string[] = [];
  if (endpoints.some((e) => pathParams(e.path_template).length > 0)) typeImports.push('PathParamValue');
  if (endpoints.some((e) => e.request_mode === 'none' && e.query_params.length > 0)) typeImports.push('QueryValue');
  out.push(`import { BaseProxyClient } from '${base}client.ts';`);
  if (endpoints.length > 0) out.push(`import { callEndpoint, type HelperOptions, type Invoker } from '${base}helpers.ts';`);
  else if (services.length > 0) out.push(`import type { Invoker } from '${base}helpers.ts';`);
  if (typeImports.length > 0) out.push(`import type { ${typeImports.join(', ')} } from '${base}types.ts';`);
  out.push('');
  for (const s of services) {
    out.push(`/** ${comment(s.name)} (\`${s.slug}\`)${s.description ? `: ${comment(s.description)}` : ''} */`);
    out.push(`export class ${pascalCase(s.slug)}Service {`);
    if (s.endpoints.length === 0) {
      out.push('  constructor(_client: Invoker) {}');
    } else {
      out.push('  readonly #client: Invoker;');
      out.push('');
      out.push('  constructor(client: Invoker) {');
      out.push('    this.#client = client;');
      out.push('  }');
    }
    for (const e of s.endpoints) {
      out.push('');
      out.push(method(s, e));
    }
    out.push('}');
    out.push('');
  }
  out.push('/** Slugs of the services that have typed helpers. */');
  out.push(`export const CATALOG_SERVICES = ${list(services.map((s) => s.slug))} as const;`);
  out.push('');
  out.push('/**');
  out.push(' * The Portico client (SPEC §11): `listServices`, `getService`, `invoke`, and one typed helper per');
  out.push(' * catalog service, e.g. `client.elevenlabs.textToSpeech({ voice_id, text })`.');
  out.push(' */');
  out.push('export class ExternalProxyClient extends BaseProxyClient {');
  for (const s of services) out.push(`  #${camelCase(s.slug)}: ${pascalCase(s.slug)}Service | undefined;`);
  for (const s of services) {
    const g = camelCase(s.slug);
    out.push('');
    out.push(`  /** ${comment(s.name)}: typed helpers for \`${s.slug}\`. */`);
    out.push(`  get ${g}(): ${pascalCase(s.slug)}Service {`);
    out.push(`    return (this.#${g} ??= new ${pascalCase(s.slug)}Service(this));`);
    out.push('  }');
  }
  out.push('}');
  out.push('');
  return out.join('\n');
}

function main(argv: string[]): void {
  let catalog = DEFAULT_CATALOG_DIR;
  let outFile = DEFAULT_OUT_FILE;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--catalog') catalog = resolve(argv[++i] ?? fail('--catalog needs a folder'));
    else if (a === '--out') outFile = resolve(argv[++i] ?? fail('--out needs a file'));
    else if (a === '--check') check = true;
    else fail(`unknown argument ${a}`);
  }
  const source = `${relative(resolve(here, '../../..'), catalog).split(sep).join('/') || '.'}/*.json`;
  const text = generate(loadCatalog(catalog), { source });
  if (check) {
    let current = '';
    try {
      current = readFileSync(outFile, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      process.stderr.write(`${outFile} is out of date; run node packages/client/scripts/generate.ts\n`);
      process.exit(1);
    }
    process.stdout.write(`${outFile} is up to date\n`);
    return;
  }
  writeFileSync(outFile, text);
  process.stdout.write(`wrote ${outFile}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
