// Reading files out of a .deb without installing it: `dpkg-deb --fsys-tarfile` piped into
// `tar -x` (members chosen by wildcard), and decompressing what the kernel packages compress
// (.ko.xz / .ko.zst modules, the bzImage payload) with the machine's own xz / zstd / gzip.
import { spawn } from 'node:child_process';
import { StudioError } from '../../util/errors';

interface Collected {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs argv with `input` on stdin and collects stdout. Rejects only when it cannot start. */
export function filterThrough(file: string, args: readonly string[], input: Uint8Array): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-8192)));
    child.stdin.on('error', () => undefined); // the tool may stop reading early (trailing data)
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new StudioError(`cannot run ${file}: ${e.message}`, { code: 'ENOTOOL', hint: `install it (Debian: apt-get install ${file === 'zstd' ? 'zstd' : file === 'xz' ? 'xz-utils' : file})` })),
    );
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

export type Compression = 'xz' | 'zstd' | 'gzip';

const MAGIC: Record<Compression, Buffer> = {
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  gzip: Buffer.from([0x1f, 0x8b, 0x08]),
};

const TOOL: Record<Compression, string> = { xz: 'xz', zstd: 'zstd', gzip: 'gzip' };

/** Decompresses one stream; trailing data after it (a bzImage's) is ignored. */
export async function decompress(kind: Compression, data: Uint8Array): Promise<Buffer> {
  const r = await filterThrough(TOOL[kind], ['-dc'], data);
  if (!r.stdout.length) throw new StudioError(`${TOOL[kind]} -dc produced nothing: ${r.stderr.trim() || `exit ${r.code}`}`, { code: 'EDECOMPRESS' });
  return r.stdout;
}

export function compressionOfName(file: string): Compression | undefined {
  if (file.endsWith('.xz')) return 'xz';
  if (file.endsWith('.zst')) return 'zstd';
  if (file.endsWith('.gz')) return 'gzip';
  return undefined;
}

/** Where each known compressed stream starts in `image`, earliest first. */
export function compressedPayloads(image: Buffer): Array<{ kind: Compression; at: number }> {
  return (Object.keys(MAGIC) as Compression[])
    .map((kind) => ({ kind, at: image.indexOf(MAGIC[kind]) }))
    .filter((p) => p.at >= 0)
    .sort((a, b) => a.at - b.at);
}

/**
 * Extracts the members matching `patterns` (tar wildcards) from a .deb into `dir`.
 * Patterns that match nothing are not an error (packages differ between suites).
 */
export function extractDeb(deb: string, dir: string, patterns: readonly string[], opts: { matchSlash?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const dpkg = spawn('dpkg-deb', ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tarArgs = ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--no-recursion', '--wildcards', opts.matchSlash === false ? '--no-wildcards-match-slash' : '--wildcards-match-slash', ...patterns];
    const tar = spawn('tar', tarArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
    let dpkgErr = '';
    let tarErr = '';
    dpkg.stderr.on('data', (b: Buffer) => (dpkgErr = (dpkgErr + b.toString()).slice(-4096)));
    tar.stderr.on('data', (b: Buffer) => (tarErr = (tarErr + b.toString()).slice(-8192)));
    dpkg.stdout.pipe(tar.stdin);
    tar.stdin.on('error', () => undefined); // tar exiting early shows in its status
    let failed = false;
    const fail = (msg: string): void => {
      if (failed) return;
      failed = true;
      reject(new StudioError(msg, { code: 'EDEBEXTRACT', detail: `${dpkgErr}\n${tarErr}` }));
    };
    dpkg.once('error', (e) => fail(`cannot run dpkg-deb: ${e.message}`));
    tar.once('error', (e) => fail(`cannot run tar: ${e.message}`));
    const dpkgDone = new Promise<number | null>((r) => dpkg.once('close', r));
    tar.once('close', (code) => {
      void dpkgDone.then((dcode) => {
        if (dcode !== 0) return fail(`dpkg-deb --fsys-tarfile ${deb} failed: ${dpkgErr.trim() || `exit ${dcode}`}`);
        // Exit 2 with only "Not found in archive" lines: some patterns matched nothing, which is fine.
        const real = tarErr.split('\n').filter((l) => l.trim() && !/Not found in archive|Exiting with failure status due to previous errors/.test(l));
        if (code !== 0 && real.length) return fail(`extracting from ${deb} failed: ${real.slice(-3).join(' | ')}`);
        if (!failed) resolve();
      });
    });
  });
}
