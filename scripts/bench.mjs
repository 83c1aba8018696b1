// Bundles bench/run.ts with every bench/*.bench.ts and runs it with node.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort();
const entry = [
  ...files.map((f, i) => `import * as m${i} from './${f.replace(/\.ts$/, '')}';`),
  `globalThis.BENCH_MODULES = {${files.map((f, i) => `${JSON.stringify(f)}: m${i}`).join(', ')}};`,
  // require, not import: imports are hoisted above the assignment, and run.ts reads BENCH_MODULES on load
  `require('./run');`,
].join('\n');
await esbuild.build({
  stdin: { contents: entry, resolveDir: path.join(root, 'bench'), loader: 'ts' },
  bundle: true, platform: 'node', format: 'cjs', target: 'es2022', outfile: path.join(root, 'dist', 'bench.js'),
  external: ['cpu-features', '*.node', 'playwright-core'], logLevel: 'warning',
});
const r = spawnSync(process.execPath, [path.join(root, 'dist', 'bench.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
