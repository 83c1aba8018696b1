// The checkout root, found upwards from this file (so it also works from the bundled
// bench in dist/, where __dirname is dist/).
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  for (let d = start; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'webview', 'src', 'main.ts'))) return d;
    if (path.dirname(d) === d) return process.cwd();
  }
}

export const repoRoot = findRoot(__dirname);
