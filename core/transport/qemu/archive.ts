// Debian packages for the VM kernels, fetched with apt-get against a private sources list
// and state directory (the machine's own apt setup is never read for sources nor changed).
// Trust comes from the archive: `apt-get update` checks the suite's InRelease signature
// with the Debian archive keyring, `apt-get download` checks the package against the hash
// that signed index lists, and we check that SHA256 once more ourselves before use.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execCapture } from '../../util/exec';
import { StudioError } from '../../util/errors';
import { findOnPath } from '../../util/which';
import { vmPaths } from './paths';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The keyring the indexes must verify against ($RINGBUF_STUDIO_DEBIAN_KEYRING: a mirror signed with its own key, and tests). */
function keyring(): string {
  return process.env.RINGBUF_STUDIO_DEBIAN_KEYRING || DEBIAN_KEYRING;
}
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** Indexes older than this are fetched again before a new package is resolved. */
const INDEX_MAX_AGE_MS = 24 * 3600 * 1000;

export interface PackageRef {
  name: string;
  version: string;
  /** From the signed index. */
  sha256: string;
  size: number;
}

export interface ArchiveSource {
  suite: string;
  debArch: string;
}

export type Log = (msg: string) => void;

/**
 * The Debian mirror: $RINGBUF_STUDIO_DEBIAN_MIRROR, else the one this machine's apt uses
 * for Debian (read only to pick the same mirror), else deb.debian.org.
 */
export function debianMirror(): string {
  const fromEnv = process.env.RINGBUF_STUDIO_DEBIAN_MIRROR;
  if (fromEnv) return fromEnv.replace(/\/+$/, '');
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f))];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue; // not there or unreadable: another file, or the default mirror
    }
    const m = /(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(https?:\/\/\S+\/debian)\/?(?:\s|$)/m.exec(text);
    if (m?.[1]) return m[1];
  }
  return DEFAULT_MIRROR;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => /\.(list|sources)$/.test(f));
  } catch {
    return []; // no such directory: no extra sources
  }
}

/**
 * Our apt.conf, read after the machine's: no update hooks of the machine's own (they act on
 * its caches, not ours), and a package cache file kept between calls (Docker images turn it off).
 */
const APT_CONF = [
  '#clear APT::Update::Pre-Invoke;',
  '#clear APT::Update::Post-Invoke;',
  '#clear APT::Update::Post-Invoke-Success;',
  'Dir::Cache::pkgcache "pkgcache.bin";',
  'Dir::Cache::srcpkgcache "";',
  'Acquire::Languages "none";',
  'Acquire::GzipIndexes "true";',
  '',
].join('\n');

/** apt options that point every file apt reads or writes at our private directory. */
function aptOptions(src: ArchiveSource): string[] {
  const d = vmPaths.apt(`${src.suite}-${src.debArch}`);
  return ['-c', path.join(d, 'apt.conf'), ...[
    `Dir::Etc::sourcelist=${path.join(d, 'sources.list')}`,
    `Dir::Etc::sourceparts=${path.join(d, 'empty')}`,
    `Dir::Etc::preferences=${path.join(d, 'preferences')}`,
    `Dir::Etc::preferencesparts=${path.join(d, 'empty')}`,
    `Dir::State=${path.join(d, 'state')}`,
    `Dir::State::Lists=${path.join(d, 'lists')}`,
    `Dir::State::status=${path.join(d, 'status')}`,
    `Dir::Cache=${path.join(d, 'cache')}`,
    `Dir::Cache::archives=${path.join(d, 'archives')}`,
    `APT::Architecture=${src.debArch}`,
    `APT::Architectures::=${src.debArch}`,
  ].flatMap((o) => ['-o', o])];
}

function prepareAptDir(src: ArchiveSource): void {
  const d = vmPaths.apt(`${src.suite}-${src.debArch}`);
  for (const sub of ['lists/partial', 'archives/partial', 'cache', 'state', 'empty']) fs.mkdirSync(path.join(d, sub), { recursive: true });
  if (!fs.existsSync(path.join(d, 'status'))) fs.writeFileSync(path.join(d, 'status'), '');
  fs.writeFileSync(path.join(d, 'apt.conf'), APT_CONF);
  fs.writeFileSync(path.join(d, 'sources.list'), `deb [arch=${src.debArch} signed-by=${keyring()}] ${debianMirror()} ${src.suite} main\n`);
}

/** What this machine needs to fetch packages; a clear error when something is missing. */
export function checkArchiveTools(): void {
  if (!findOnPath('apt-get') || !findOnPath('apt-cache') || !findOnPath('dpkg-deb')) {
    throw new StudioError('VM kernels are fetched from Debian with apt-get, which this machine lacks', {
      code: 'ENOAPT',
      hint: 'use a Debian or Ubuntu machine (apt-get, apt-cache and dpkg-deb), or copy ~/.cache/ringbuf-studio/vm/kernels from one',
    });
  }
  if (!fs.existsSync(keyring())) {
    throw new StudioError(`the Debian archive keyring (${keyring()}) is not installed: downloads could not be verified`, {
      code: 'ENOKEYRING',
      hint: 'apt-get install debian-archive-keyring',
    });
  }
}

async function apt(tool: 'apt-get' | 'apt-cache', src: ArchiveSource, args: string[], opts: { cwd?: string; signal?: AbortSignal } = {}): Promise<string> {
  const r = await execCapture(tool, [...aptOptions(src), ...args], opts);
  if (r.code !== 0) {
    const said = r.stderr.split('\n').filter((l) => l.trim() && !/Download is performed unsandboxed/.test(l)).slice(-4).join(' | ');
    throw new StudioError(`${tool} ${args.join(' ')} (Debian ${src.suite}, ${src.debArch}) failed: ${said || `exit ${r.code}`}`, {
      code: 'EAPT',
      hint: `check the network and the mirror (${debianMirror()}; RINGBUF_STUDIO_DEBIAN_MIRROR overrides it)`,
      detail: r.stderr,
    });
  }
  return r.stdout.toString('utf8');
}

/** Fetches the suite's signed indexes into the private state dir when they are missing or old (or `refresh`). */
export async function updateIndex(src: ArchiveSource, opts: { refresh?: boolean; signal?: AbortSignal; log?: Log } = {}): Promise<void> {
  checkArchiveTools();
  prepareAptDir(src);
  const lists = path.join(vmPaths.apt(`${src.suite}-${src.debArch}`), 'lists');
  const release = fs.readdirSync(lists).find((f) => f.endsWith('_InRelease'));
  const fresh = release && Date.now() - fs.statSync(path.join(lists, release)).mtimeMs < INDEX_MAX_AGE_MS;
  if (fresh && !opts.refresh) return;
  opts.log?.(`fetching the Debian ${src.suite} (${src.debArch}) index from ${debianMirror()}`);
  const unsigned = /not signed|NO_PUBKEY|BADSIG|couldn't be verified|EXPKEYSIG/i;
  const refuse = (detail: string): StudioError =>
    new StudioError(`the Debian ${src.suite} index from ${debianMirror()} does not verify against the archive keyring (${keyring()}); nothing was downloaded`, {
      code: 'EAPTSIG',
      hint: 'check the mirror (RINGBUF_STUDIO_DEBIAN_MIRROR) and the keyring (apt-get install debian-archive-keyring)',
      detail,
    });
  const out = await apt('apt-get', src, ['update', '-q'], opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
    const detail = err instanceof StudioError ? (err.detail ?? '') : '';
    throw unsigned.test(detail) ? refuse(detail) : err;
  });
  if (unsigned.test(out)) throw refuse(out);
}

/** Drops apt's package cache file (~36 MB per suite, rebuilt in a second when next needed). */
export function dropPackageCache(src: ArchiveSource): void {
  fs.rmSync(path.join(vmPaths.apt(`${src.suite}-${src.debArch}`), 'cache', 'pkgcache.bin'), { force: true });
}

function field(stanza: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
}

/** The candidate version of a package in the suite, with the hash its signed index lists. */
export async function showPackage(src: ArchiveSource, name: string, signal?: AbortSignal): Promise<PackageRef & { depends: string }> {
  const out = await apt('apt-cache', src, ['show', '--no-all-versions', name], signal ? { signal } : {});
  const version = field(out, 'Version');
  const sha256 = field(out, 'SHA256');
  const size = Number(field(out, 'Size'));
  if (!version || !sha256 || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new StudioError(`Debian ${src.suite} (${src.debArch}) lists no downloadable ${name}`, { code: 'EAPT', detail: out });
  }
  return { name: field(out, 'Package') ?? name, version, sha256, size, depends: field(out, 'Depends') ?? '' };
}

/** The kernel image a meta-package (linux-image-amd64, linux-image-arm64-16k) depends on today. */
export async function resolveKernelPackage(src: ArchiveSource, metaPackage: string, signal?: AbortSignal): Promise<PackageRef> {
  const meta = await showPackage(src, metaPackage, signal);
  const image = /(?:^|,\s*)(linux-image-[0-9][\w.+-]*)/.exec(meta.depends)?.[1];
  if (!image) {
    throw new StudioError(`${metaPackage} in Debian ${src.suite} depends on no linux-image package (Depends: ${meta.depends || 'none'})`, { code: 'EAPT' });
  }
  const { depends: _depends, ...ref } = await showPackage(src, image, signal);
  return ref;
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `apt-get download` of exactly this version into `dir`; the file's SHA256 must equal the index's. */
export async function downloadPackage(src: ArchiveSource, pkg: PackageRef, dir: string, opts: { signal?: AbortSignal; log?: Log } = {}): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const fileVersion = pkg.version.replace(/:/g, '%3a');
  const find = (): string | undefined => fs.readdirSync(dir).find((f) => f.startsWith(`${pkg.name}_${fileVersion}_`) && f.endsWith('.deb'));
  let file = find();
  if (!file) {
    opts.log?.(`downloading ${pkg.name} ${pkg.version} (${Math.round(pkg.size / 1e6)} MB)`);
    await apt('apt-get', src, ['download', '-q', `${pkg.name}=${pkg.version}`], { cwd: dir, ...(opts.signal ? { signal: opts.signal } : {}) });
    file = find();
  }
  if (!file) throw new StudioError(`apt-get download ${pkg.name}=${pkg.version} left no .deb in ${dir}`, { code: 'EAPT' });
  const full = path.join(dir, file);
  const got = await sha256File(full);
  if (got !== pkg.sha256) {
    fs.rmSync(full, { force: true });
    throw new StudioError(`${file} does not match the SHA256 that Debian's signed index lists (got ${got}, want ${pkg.sha256}); deleted it`, {
      code: 'EAPTHASH',
      hint: 'try again; if it repeats, the mirror or a proxy serves altered files',
    });
  }
  return full;
}
