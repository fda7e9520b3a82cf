// A git worktree of another revision that runs beside this checkout (bench:ab, bench:ir).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetId } from './targets.ts';

/**
 * A worktree of `rev` that runs its own packages: its node_modules links every dependency of
 * this checkout except @portico/*, which point at the worktree's own packages (through the
 * workspace links, the CLI of a second checkout would otherwise load the first one's gateway).
 */
export function worktreeOf(root: string, rev: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, '.bench-tmp', `ab-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, commit], { cwd: root, stdio: 'ignore' });
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@portico'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@portico' || existsSync(join(modules, name))) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  for (const pkg of readdirSync(join(dir, 'packages'))) {
    const link = join(modules, '@portico', pkg);
    if (!existsSync(link)) symlinkSync(join(dir, 'packages', pkg), link);
  }
  return { dir, commit };
}

/** Side A of a side-by-side run: `target` built from `rev`'s worktree, or with no `rev` baseline (b) from this checkout. */
export function sideA(root: string, rev: string, target: TargetId): { label: string; target: TargetId; root: string } {
  if (!rev) return { label: '(b), the undici proxy baseline', target: 'undici', root };
  const { dir, commit } = worktreeOf(root, rev);
  return { label: `${commit.slice(0, 12)} (${rev})`, target, root: dir };
}
