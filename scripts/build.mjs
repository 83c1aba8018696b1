// Bundles the extension, the CLI and the webview with esbuild, and copies the
// build-time assets (libbpf headers, webview libraries) into dist/.
// Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stubOptionalNativeModules } from './esbuild-stubs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');

/** libbpf's BPF-side headers come from the system's libbpf-dev at build time; never committed. */
function copyLibbpfHeaders() {
  const candidates = ['/usr/include/bpf'];
  const src = candidates.find((d) => fs.existsSync(path.join(d, 'bpf_helpers.h')));
  if (!src) {
    console.error('build: libbpf headers not found (/usr/include/bpf/bpf_helpers.h); install libbpf-dev (apt-get install libbpf-dev)');
    process.exit(1);
  }
  const out = path.join(dist, 'include', 'bpf');
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(src)) {
    if (f.endsWith('.h')) fs.copyFileSync(path.join(src, f), path.join(out, f));
  }
}

function copyWebviewAssets() {
  const out = path.join(dist, 'webview');
  fs.mkdirSync(out, { recursive: true });
  const assets = [
    ['node_modules/@vscode-elements/elements/dist/bundled.js', 'vscode-elements.js'],
    ['node_modules/uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ];
  for (const [from, to] of assets) {
    const p = path.join(root, from);
    if (fs.existsSync(p)) fs.copyFileSync(p, path.join(out, to));
  }
  const css = path.join(root, 'webview', 'src', 'panel.css');
  if (fs.existsSync(css)) fs.copyFileSync(css, path.join(out, 'panel.css'));
}

const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };
const entries = [
  {
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode', '*.node'],
    plugins: [stubOptionalNativeModules],
  },
  {
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    external: ['*.node'],
    plugins: [stubOptionalNativeModules],
  },
  {
    ...common,
    entryPoints: ['webview/src/main.ts'],
    outfile: 'dist/webview/panel.js',
    platform: 'browser',
    format: 'iife',
  },
].filter((e) => fs.existsSync(path.join(root, e.entryPoints[0])));

fs.mkdirSync(dist, { recursive: true });
copyLibbpfHeaders();
copyWebviewAssets();
if (watch) {
  for (const e of entries) await (await esbuild.context({ ...e, absWorkingDir: root })).watch();
  console.log('build: watching');
} else {
  await Promise.all(entries.map((e) => esbuild.build({ ...e, absWorkingDir: root })));
  console.log(`build: ${entries.map((e) => e.outfile).join(', ')}`);
}
