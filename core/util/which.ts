// Finding programs the way a shell would: the first executable file of that name on PATH.
import fs from 'node:fs';
import path from 'node:path';

/** Searched when PATH is unset (e.g. a stripped service environment). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** True for a regular file this process may execute. */
export function isExecutable(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false; // missing, unreadable or not executable: each means "not this one"
  }
}

/** The full path of `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? DEFAULT_PATH).split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}
