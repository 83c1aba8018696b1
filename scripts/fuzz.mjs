// `npm run fuzz [-- …]`: bundles the TS fuzz runner (test/fuzz/run.ts) with esbuild and
// runs it with node; arguments pass through (see the header of test/fuzz/run.ts).
// The bundle lives in .cache/fuzz/ so that paths relative to the repository still hold.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, '.cache/fuzz', `run-${process.pid}.mjs`);
await build({
  entryPoints: [path.join(root, 'test/fuzz/run.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  logLevel: 'error',
  sourcemap: 'inline',
  packages: 'external',
});
const args = process.argv.slice(2).filter((a) => a !== '--');
const r = spawnSync(process.execPath, ['--enable-source-maps', out, ...args], { stdio: 'inherit', cwd: root });
fs.rmSync(out, { force: true });
process.exitCode = r.status ?? 1;
