// Which files `ringbuf-studio test [files|dirs…]` runs: files as given, folders searched
// for *.rbtest.yaml (node_modules and dot-folders skipped), in a stable order.
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../util/errors';

export const LIVE_TEST_SUFFIX = '.rbtest.yaml';

/** Absolute paths of the live test files under `inputs` (default: the working directory). */
export async function findLiveTestFiles(inputs: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const found: string[] = [];
  for (const input of inputs.length ? inputs : ['.']) {
    const abs = path.resolve(cwd, input);
    const stat = await fs.promises.stat(abs).catch(() => undefined);
    if (!stat) throw new StudioError(`${input} does not exist`, { code: 'ENOENT', hint: `give .rbtest.yaml files or folders that hold them` });
    if (stat.isDirectory()) found.push(...(await walk(abs)));
    else found.push(abs);
  }
  return [...new Set(found)];
}

async function walk(dir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && e.name.endsWith(LIVE_TEST_SUFFIX)) out.push(p);
  }
  return out;
}
