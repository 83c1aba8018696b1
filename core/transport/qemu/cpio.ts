// A newc ("070701") cpio archive, the initramfs format the kernel unpacks: every entry
// owned by root, so the archive is right whoever builds it (no cpio tool, no root needed).
import fs from 'node:fs';
import path from 'node:path';

export type CpioEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; data: Uint8Array }
  | { path: string; type: 'symlink'; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))]);
}

/** The archive's bytes. Parents must come before their children. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (e.type === 'dir') {
      parts.push(header(ino++, S_IFDIR | (e.mode & 0o7777), 0, name));
    } else {
      const data = e.type === 'file' ? e.data : Buffer.from(e.target, 'utf8');
      const mode = e.type === 'file' ? S_IFREG | (e.mode & 0o7777) : S_IFLNK | 0o777;
      parts.push(header(ino++, mode, data.length, name), Buffer.from(data.buffer, data.byteOffset, data.length), Buffer.alloc(pad4(data.length)));
    }
  }
  parts.push(header(0, 0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

/** Entries for a directory tree on disk, placed under `prefix` in the archive (symlinks kept as links). */
export function treeEntries(dir: string, prefix: string): CpioEntry[] {
  const out: CpioEntry[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, r);
      const at = `${prefix}/${r}`;
      if (e.isSymbolicLink()) out.push({ path: at, type: 'symlink', target: fs.readlinkSync(full) });
      else if (e.isDirectory()) {
        out.push({ path: at, type: 'dir', mode: 0o755 });
        walk(r);
      } else if (e.isFile()) out.push({ path: at, type: 'file', mode: fs.statSync(full).mode & 0o777, data: fs.readFileSync(full) });
    }
  };
  walk('');
  return out;
}
