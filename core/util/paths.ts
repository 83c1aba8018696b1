// Local paths built from data we do not control (a target's arch, a helper's log, a
// setting): they must provably stay inside the directory they are meant for.
import path from 'node:path';
import { StudioError } from './errors';

/**
 * `dir/name` when `name` is one plain file name — not empty, not `.` or `..`, no `/`,
 * `\` or NUL — so the result is always a direct child of `dir`. Anything else throws:
 * callers build names from closed sets, so a throw here is a bug or an attack.
 */
export function containedPath(dir: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new StudioError(`refusing the file name ${JSON.stringify(name.slice(0, 200))}: it would leave ${dir}`, { code: 'EPATHESCAPE' });
  }
  const base = path.resolve(dir);
  const full = path.join(base, name);
  if (path.dirname(full) !== base) {
    throw new StudioError(`refusing the file name ${JSON.stringify(name.slice(0, 200))}: it would leave ${dir}`, { code: 'EPATHESCAPE' });
  }
  return full;
}

/** True when `file` (resolved) is `dir` itself or below it. */
export function isWithin(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
