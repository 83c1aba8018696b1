// Where Ringbuf Studio itself is installed: the folder holding OUR package.json
// (name "ringbuf-studio"), found by walking up from this module's own location —
// `dist/` in the bundles (CLI, extension, .vsix), `core/util/` from source. Never the
// working directory: a checkout the user merely `cd`s into must not supply binaries
// or headers. RINGBUF_STUDIO_ROOT (set by the user, machine-scoped) overrides it.
import fs from 'node:fs';
import path from 'node:path';

export const PACKAGE_NAME = 'ringbuf-studio';
const MAX_DEPTH = 6;

let memo: string | null | undefined;

function isOurPackage(dir: string): boolean {
  try {
    const name = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    return name === PACKAGE_NAME;
  } catch {
    return false; // no package.json here (or not JSON): keep walking up
  }
}

/** The installed package's root, or undefined when this module is not inside one. */
export function findOwnPackageRoot(): string | undefined {
  const fromEnv = process.env.RINGBUF_STUDIO_ROOT;
  if (fromEnv) return path.resolve(fromEnv);
  if (memo !== undefined) return memo ?? undefined;
  memo = null;
  // esbuild's CJS bundles and vitest both provide __dirname; nothing else is a safe start.
  if (typeof __dirname !== 'string') return undefined;
  let dir = __dirname;
  for (let i = 0; i < MAX_DEPTH; i++) {
    if (isOurPackage(dir)) {
      memo = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * The folder holding Ringbuf Studio's package.json (found from
 * this module's own location, never the working directory). Bundled without a
 * package.json next to it: the bundle's parent (dist/<bundle>.js).
 */
export function packageRoot(): string {
  return findOwnPackageRoot() ?? path.resolve(__dirname, '..');
}
