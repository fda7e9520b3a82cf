#!/usr/bin/env node
// `portico` launcher. The CLI is TypeScript run by Node's type stripping (Node >= 22.18), so this
// file only checks the Node version and re-runs src/main.ts with the same Node binary and the
// same arguments, sharing stdio and passing the exit code (or signal) through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`portico: Portico needs Node >= 22.18 (this is ${process.version}); \`npm start\` and \`npm exec portico\` bring Node 24.\n`);
  process.exit(1);
}

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// Node 22/23 print an ExperimentalWarning for type stripping; it is not news to a CLI user.
const nodeFlags = major < 24 ? ['--disable-warning=ExperimentalWarning'] : [];
const child = spawn(process.execPath, [...nodeFlags, main, ...process.argv.slice(2)], { stdio: 'inherit' });

// A terminal's Ctrl-C reaches both processes (same process group); a `kill PID` reaches only
// this one. Forward both so that the child always shuts down gracefully, and let the child
// decide when to exit.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on('error', (err) => {
  process.stderr.write(`portico: cannot start ${process.execPath}: ${err.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so that shells and supervisors see what happened.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
