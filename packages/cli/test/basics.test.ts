// `portico` without a running gateway: help, usage errors, `serve` configuration errors and a
// real `serve` that answers /readyz and stops on SIGTERM, `migrate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { eachLimit, oneErrorLine, runCli, startCli, tempDir } from './helpers.ts';

const COMMANDS = [
  [],
  ['serve'],
  ['migrate'],
  ['rotate-master-key'],
  ['sandbox'],
  ['demo'],
  ['invoke'],
  ['orgs'],
  ['orgs', 'list'],
  ['orgs', 'create'],
  ['orgs', 'delete'],
  ['keys'],
  ['keys', 'list'],
  ['keys', 'create'],
  ['keys', 'revoke'],
  ['credentials'],
  ['credentials', 'list'],
  ['credentials', 'add'],
  ['credentials', 'test'],
  ['credentials', 'delete'],
  ['services'],
  ['services', 'list'],
  ['services', 'enable'],
  ['services', 'disable'],
  ['policy'],
  ['policy', 'get'],
  ['policy', 'set'],
  ['policy', 'reset'],
];

test('--help works for every command and subcommand', async () => {
  await eachLimit(COMMANDS, 3, async (cmd) => {
    const r = await runCli([...cmd, '--help']);
    assert.equal(r.code, 0, `portico ${cmd.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage: portico/, `portico ${cmd.join(' ')} --help`);
    assert.equal(r.stderr, '');
  });
});

test('-h and `help` are --help too', async () => {
  const a = await runCli(['orgs', 'create', '-h']);
  assert.equal(a.code, 0);
  assert.match(a.stdout, /Usage: portico orgs create SLUG/);
  const b = await runCli(['help', 'invoke']);
  assert.equal(b.code, 0);
  assert.match(b.stdout, /Usage: portico invoke SERVICE ACTION/);
});

test('--version prints the version', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^portico \d+\.\d+\.\d+/);
});

test('usage errors exit 2 with one line on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [['bogus'], /unknown command 'bogus'/],
    [['orgs'], /missing command/],
    [['orgs', 'frobnicate'], /unknown command 'orgs frobnicate'/],
    [['orgs', 'create'], /missing SLUG/],
    [['orgs', 'list', '--bogus'], /unknown option '--bogus'/],
    [['orgs', 'list', 'extra'], /unexpected argument 'extra'/],
    [['keys', 'create', 'acme'], /missing --name/],
    [['keys', 'create', 'acme', '--name', 'x', '--role', 'owner'], /--role must be admin or member/],
    [['credentials', 'add', 'elevenlabs'], /missing --scope/],
    [['credentials', 'add', 'elevenlabs', '--scope', 'platform', '--secret', 'sk_live_abcdef'], /never taken from the command line/],
    [['policy', 'set', 'elevenlabs'], /nothing to change/],
    [['policy', 'set', 'elevenlabs', '--default', 'both'], /--default must be tenant or platform/],
    [['invoke', 'elevenlabs'], /missing ACTION/],
    [['invoke', 'elevenlabs', 'get-voice', '--path', 'voice_id'], /--path takes NAME=VALUE/],
    [['invoke', 'elevenlabs', 'text-to-speech', '--body', '{not json'], /--body is not valid JSON/],
    [['serve', '--workers', 'many'], /--workers must be an integer/],
    [['sandbox', '--port', 'x'], /--port/],
    [['orgs', 'list', '--url', 'ftp://example.com'], /http or https/],
  ];
  await eachLimit(cases, 3, async ([args, re]) => {
    const r = await runCli(args);
    assert.equal(r.code, 2, `portico ${args.join(' ')}: ${r.stderr}`);
    const line = oneErrorLine(r.stderr);
    assert.match(line, re, `portico ${args.join(' ')}`);
    assert.ok(!line.includes('sk_live_abcdef'), 'a secret given on the command line is not echoed');
  });
});

test('serve: a bad environment exits 1 with one line naming the variable', async () => {
  const dir = tempDir();
  try {
    const cases: [Record<string, string>, string][] = [
      [{ PORTICO_PORT: '99999' }, 'PORTICO_PORT'],
      [{ PORTICO_MASTER_KEY: 'short' }, 'PORTICO_MASTER_KEY'],
      [{ PORTICO_DATABASE_URL: 'mysql://x' }, 'PORTICO_DATABASE_URL'],
    ];
    for (const [env, variable] of cases) {
      const r = await runCli(['serve'], { cwd: dir.path, env });
      assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.ok(oneErrorLine(r.stderr).includes(variable), r.stderr);
    }
  } finally {
    dir.remove();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test('serve: answers /readyz and exits 0 on SIGTERM', async () => {
  const dir = tempDir();
  const port = await freePort();
  const child = startCli(['serve'], { cwd: dir.path, env: { PORTICO_PORT: String(port), PORTICO_DATA_DIR: `${dir.path}/data`, PORTICO_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let status = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        status = res.status;
        await res.body?.cancel();
        if (status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, `GET /readyz (stderr: ${stderr})`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    dir.remove();
  }
});

test('migrate applies the migrations once, then has nothing to do', async () => {
  const dir = tempDir();
  try {
    const first = await runCli(['migrate', '--json'], { cwd: dir.path, env: { PORTICO_LOG_LEVEL: 'warn' } });
    assert.equal(first.code, 0, first.stderr);
    const applied = JSON.parse(first.stdout).applied as string[];
    assert.ok(applied.length > 0);
    const second = await runCli(['migrate'], { cwd: dir.path, env: { PORTICO_LOG_LEVEL: 'warn' } });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  } finally {
    dir.remove();
  }
});

test('rotate-master-key re-encrypts under a new key file', async () => {
  const dir = tempDir();
  try {
    const m = await runCli(['migrate'], { cwd: dir.path });
    assert.equal(m.code, 0, m.stderr);
    const r = await runCli(['rotate-master-key', '--json'], { cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { rotated: number; key_file: string };
    assert.equal(out.rotated, 0);
    assert.match(out.key_file, /master\.key$/);
    const bad = await runCli(['rotate-master-key'], { cwd: dir.path, env: { PORTICO_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') } });
    assert.equal(bad.code, 1);
    assert.match(oneErrorLine(bad.stderr), /PORTICO_NEW_MASTER_KEY/);
  } finally {
    dir.remove();
  }
});

test('admin commands without a token or gateway fail with one line', async () => {
  const dir = tempDir();
  try {
    const noToken = await runCli(['orgs', 'list'], { cwd: dir.path });
    assert.equal(noToken.code, 1);
    assert.match(oneErrorLine(noToken.stderr), /no admin token/);
    const port = await freePort();
    const down = await runCli(['orgs', 'list', '--url', `http://127.0.0.1:${port}`, '--key', 'some-admin-token-123456'], { cwd: dir.path });
    assert.equal(down.code, 1);
    assert.match(oneErrorLine(down.stderr), /cannot reach the gateway/);
  } finally {
    dir.remove();
  }
});
