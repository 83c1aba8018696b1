// Downloads for the VM targets come from Debian's archive and are checked by its own
// signature chain, through a private apt state: a wrong key refuses the index, a package
// whose bytes differ from the signed index's SHA256 is deleted, and the machine's own apt
// configuration and lists are left exactly as they were. (Needs the Debian mirror.)
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadPackage, showPackage, updateIndex } from '../../../core/transport/qemu/archive';
import { vmPaths } from '../../../core/transport/qemu/paths';
import { available } from '../../support/prereq';

const src = { suite: 'bookworm', debArch: 'amd64' };

/** Name, size and mtime of every file under the machine's apt directories. */
function aptSnapshot(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // unreadable or absent: nothing to compare
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        out.push(`${p} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  for (const d of ['/etc/apt', '/var/lib/apt/lists', '/var/lib/dpkg/status']) walk(d);
  return out.sort();
}

describe.skipIf(!available('qemu'))('Debian archive downloads for the VM targets', () => {
  const saved = { cache: process.env.RINGBUF_STUDIO_CACHE, keyring: process.env.RINGBUF_STUDIO_DEBIAN_KEYRING };
  let cache: string;
  beforeAll(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-vm-archive-'));
    process.env.RINGBUF_STUDIO_CACHE = cache;
  });
  afterAll(() => {
    for (const [k, v] of [['RINGBUF_STUDIO_CACHE', saved.cache], ['RINGBUF_STUDIO_DEBIAN_KEYRING', saved.keyring]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('an index signed by a key the keyring does not hold is refused, and nothing is listed', async () => {
    // Debian's removed keys: a real keyring, but not the one that signs bookworm.
    process.env.RINGBUF_STUDIO_DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-removed-keys.gpg';
    try {
      const err = await updateIndex(src, { refresh: true }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('EAPTSIG');
      expect((err as Error).message).toMatch(/does not verify against the archive keyring/);
      const lists = path.join(vmPaths.apt('bookworm-amd64'), 'lists');
      expect(fs.readdirSync(lists).filter((f) => f.includes('Packages'))).toEqual([]);
    } finally {
      delete process.env.RINGBUF_STUDIO_DEBIAN_KEYRING;
    }
  }, 120_000);

  it('the real index verifies in a private state dir, leaving the machine\'s apt setup untouched', async () => {
    const before = aptSnapshot();
    await updateIndex(src, { refresh: true });
    const bash = await showPackage(src, 'bash');
    expect(bash.version).toMatch(/^5\./);
    expect(bash.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(aptSnapshot()).toEqual(before);
  }, 180_000);

  it('a package whose bytes differ from the signed index\'s SHA256 is deleted, not used', async () => {
    const ref = await showPackage(src, 'busybox-static');
    const dir = path.join(cache, 'debs');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${ref.name}_${ref.version.replace(/:/g, '%3a')}_amd64.deb`);
    fs.writeFileSync(file, crypto.randomBytes(4096)); // what a tampering proxy might serve
    const err = await downloadPackage(src, ref, dir).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('EAPTHASH');
    expect((err as Error).message).toMatch(/does not match the SHA256 that Debian's signed index lists/);
    expect(fs.existsSync(file)).toBe(false);
    // The genuine package downloads and verifies.
    const real = await downloadPackage(src, ref, dir);
    expect(crypto.createHash('sha256').update(fs.readFileSync(real)).digest('hex')).toBe(ref.sha256);
  }, 180_000);
});
