// compileBpf's options and failure modes, with the real clang.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileBpf, defaultObjectPath } from '../../../core/compile/build';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { fixturesDir, lineOf, tempDir } from './helpers';

const definesFixture = path.join(fixturesDir, 'defines.bpf.c');

describe('compileBpf', () => {
  const tmp = tempDir('build');
  afterAll(() => tmp.cleanup());

  it('passes -D and -I: the define reaches the map size, the extra header its struct', async () => {
    const r = await compileBpf({
      file: definesFixture,
      outFile: path.join(tmp.dir, 'defines.bpf.o'),
      defines: { RING_SIZE: '(1 << 16)' },
      includeDirs: [path.join(fixturesDir, 'include')],
    });
    expect(r.diagnostics).toEqual([]);
    const obj = readBpfObject(r.object ?? new Uint8Array());
    expect(obj.maps.find((m) => m.name === 'rb')?.maxEntries).toBe(65536);
    expect(obj.btf?.findByName('extra_event', 'struct')).toBeDefined();
  });

  it('without them the same file fails on the #error and the missing header', async () => {
    const r = await compileBpf({ file: definesFixture, outFile: path.join(tmp.dir, 'nodefs.bpf.o') });
    expect(r.ok).toBe(false);
    const line = lineOf(fs.readFileSync(definesFixture, 'utf8'), '<extra_event.h>');
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', line, message: "'extra_event.h' file not found" });
  });

  it('the default object lands in the per-user cache, one folder per source path', async () => {
    const dir = path.join(tmp.dir, 'own');
    fs.mkdirSync(dir);
    const src = path.join(dir, 'prog.bpf.c');
    fs.copyFileSync(path.join(fixturesDir, 'seed.bpf.c'), src);
    const r = await compileBpf({ file: src });
    expect(r.ok).toBe(true);
    expect(r.objectPath).toBe(defaultObjectPath(src));
    expect(path.basename(r.objectPath ?? '')).toBe('prog.bpf.o');
    expect(fs.readdirSync(dir)).toEqual(['prog.bpf.c']);
    expect(defaultObjectPath(path.join(tmp.dir, 'other', 'prog.bpf.c'))).not.toBe(r.objectPath);
  });

  it('a cross build for s390 writes a big-endian object with __TARGET_ARCH_s390', async () => {
    const r = await compileBpf({ file: path.join(fixturesDir, 'seed.bpf.c'), outFile: path.join(tmp.dir, 's390.bpf.o'), arch: 's390' });
    expect(r.ok).toBe(true);
    expect(r.command).toEqual(expect.arrayContaining(['-target', 'bpfeb', '-D__TARGET_ARCH_s390']));
    expect(r.object?.[5]).toBe(2); // ELFDATA2MSB
    expect(readBpfObject(r.object ?? new Uint8Array()).littleEndian).toBe(false);
  });

  it('a missing source file is a clear error', async () => {
    await expect(compileBpf({ file: path.join(tmp.dir, 'missing.bpf.c') })).rejects.toMatchObject({
      code: 'ENOSOURCE',
      message: expect.stringContaining('missing.bpf.c'),
    });
  });

  it('a vmlinuxHeaderDir without vmlinux.h is a clear error', async () => {
    await expect(compileBpf({ file: definesFixture, vmlinuxHeaderDir: tmp.dir })).rejects.toMatchObject({ code: 'ENOVMLINUX' });
  });

  it('an aborted build stops with ECANCELED and leaves no object', async () => {
    const ac = new AbortController();
    const out = path.join(tmp.dir, 'aborted.bpf.o');
    const p = compileBpf({ file: path.join(fixturesDir, 'seed.bpf.c'), outFile: out, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });
});
