// The CLI bundled from source the way scripts/build.mjs bundles it (same stubs), for tests
// that run it as a user would: a child process, its own HOME, its own package folder.
import path from 'node:path';
import * as esbuild from 'esbuild';
// @ts-expect-error -- a plain .mjs shared with scripts/build.mjs (no types)
import { stubOptionalNativeModules } from '../../scripts/esbuild-stubs.mjs';

const repoRoot = path.resolve(__dirname, '../..');

/** Bundles cli/main.ts into `outfile`. */
export async function bundleCli(outfile: string): Promise<string> {
  await esbuild.build({
    entryPoints: [path.join(repoRoot, 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    external: ['*.node'],
    plugins: [stubOptionalNativeModules as esbuild.Plugin],
    logLevel: 'error',
  });
  return outfile;
}
