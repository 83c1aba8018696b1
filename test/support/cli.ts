// dist/cli.js as users run it, rebuilt first when cli/ or core/ sources are newer (npm test builds it already).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(__dirname, '../..');
export const cliPath = path.join(repo, 'dist', 'cli.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when dist/cli.js is missing or older than the sources; returns its path. */
export function ensureCliBuilt(): string {
  const stale = !fs.existsSync(cliPath) || fs.statSync(cliPath).mtimeMs < Math.max(newestMtime(path.join(repo, 'cli')), newestMtime(path.join(repo, 'core')));
  if (stale) execFileSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs')], { cwd: repo, stdio: 'pipe' });
  return cliPath;
}
