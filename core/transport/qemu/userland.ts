// The guest's userland, for the guest's arch, from the kernel's own Debian suite:
// busybox (static: the shell and every tool /init and the live tests' triggers use), and
// bash with the libraries it links (bash: templates probe its readline(); the loader and
// libc also let a user `put` an ordinary dynamic binary), and script(1) to give a trigger a
// terminal. Laid out merged-/usr.
import fs from 'node:fs';
import path from 'node:path';
import { downloadPackage, dropPackageCache, showPackage, updateIndex, type Log } from './archive';
import type { CatalogueKernel } from './catalogue';
import { extractDeb } from './deb';
import { withLock } from './lock';
import { vmPaths, vmRoot } from './paths';

const LIB_PATTERNS = ['./lib/*-linux-gnu/*', './usr/lib/*-linux-gnu/*', './lib64/*', './usr/lib64/*', './lib/ld-linux*', './usr/lib/ld-linux*'];

/** Package → the members we keep (tar wildcards; `*` does not cross `/`). */
const PACKAGES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['busybox-static', ['./bin/busybox', './usr/bin/busybox']],
  ['bash', ['./bin/bash', './usr/bin/bash']],
  ['libc6', LIB_PATTERNS],
  ['libtinfo6', LIB_PATTERNS],
  // script(1): gives a trigger a terminal (an interactive bash reads lines through readline only on one).
  ['bsdutils', ['./usr/bin/script', './bin/script']],
];

export interface Userland {
  /** A merged-/usr tree: usr/bin/busybox, usr/bin/bash, usr/lib/…, usr/lib64/… */
  root: string;
  packages: Record<string, string>;
}

function suiteArch(k: CatalogueKernel): string {
  return `${k.suite}-${k.debArch}`;
}

export function cachedUserland(k: CatalogueKernel): Userland | undefined {
  try {
    const u = JSON.parse(fs.readFileSync(path.join(vmPaths.userland(suiteArch(k)), 'userland.json'), 'utf8')) as Userland;
    // A userland made before a package joined the list is made again.
    const complete = PACKAGES.every(([name]) => name in u.packages);
    return complete && fs.existsSync(path.join(u.root, 'usr/bin/busybox')) ? u : undefined;
  } catch {
    return undefined; // not fetched yet
  }
}

/** Moves bin/ lib/ lib64/ sbin/ into usr/ (older suites are not merged-/usr yet). */
function mergeUsr(root: string): void {
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
    const from = path.join(root, d);
    if (!fs.existsSync(from) || fs.lstatSync(from).isSymbolicLink()) continue;
    fs.cpSync(from, path.join(root, 'usr', d), { recursive: true, verbatimSymlinks: true, force: true });
    fs.rmSync(from, { recursive: true, force: true });
  }
}

export async function ensureUserland(k: CatalogueKernel, opts: { refresh?: boolean; signal?: AbortSignal; log?: Log } = {}): Promise<Userland> {
  const have = cachedUserland(k);
  if (have && !opts.refresh) return have;
  return withLock(vmRoot(), `userland-${suiteArch(k)}`, async () => {
    const again = cachedUserland(k);
    if (again && !opts.refresh) return again;
    const src = { suite: k.suite, debArch: k.debArch };
    await updateIndex(src, opts);
    const dir = vmPaths.userland(suiteArch(k));
    fs.mkdirSync(dir, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(dir, '.unpack-'));
    try {
      const packages: Record<string, string> = {};
      for (const [name, patterns] of PACKAGES) {
        const ref = await showPackage(src, name, opts.signal);
        const deb = await downloadPackage(src, ref, vmPaths.debs(), opts);
        await extractDeb(deb, tmp, patterns, { matchSlash: false });
        fs.rmSync(deb, { force: true });
        packages[name] = ref.version;
      }
      dropPackageCache(src);
      mergeUsr(tmp);
      const root = path.join(dir, 'root');
      fs.rmSync(root, { recursive: true, force: true });
      fs.renameSync(tmp, root);
      const u: Userland = { root, packages };
      fs.writeFileSync(path.join(dir, 'userland.json'), JSON.stringify(u, null, 2));
      return u;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, { ...(opts.signal ? { signal: opts.signal } : {}) });
}
