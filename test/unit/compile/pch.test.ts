// Precompiled vmlinux.h: same object as without it, used only when safe, and a
// broken PCH falls back to a plain compile.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileBpf } from '../../../core/compile/build';
import { startsWithVmlinuxInclude } from '../../../core/compile/pch';
import { ensureVmlinuxHeader } from '../../../core/compile/vmlinux';
import { findOnPath } from '../../../core/util/which';
import { fixturesDir, tempDir } from './helpers';

const seed = path.join(fixturesDir, 'seed.bpf.c');

describe('startsWithVmlinuxInclude', () => {
  it('accepts comments before the include, refuses code or macros', () => {
    expect(startsWithVmlinuxInclude('// hi\n/* x */\n#include "vmlinux.h"\n#define A 1\n')).toBe(true);
    expect(startsWithVmlinuxInclude('#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "vmlinux.h"\n')).toBe(false);
    expect(startsWithVmlinuxInclude('#include <linux/bpf.h>\n')).toBe(false);
  });
});

const bpftool = findOnPath('bpftool');
describe.skipIf(!fs.existsSync('/sys/kernel/btf/vmlinux'))('compiling with a precompiled vmlinux.h', () => {
  const tmp = tempDir('pch');
  let headerDir: string;
  beforeAll(async () => {
    // A private copy of the header, so this test's PCH files do not touch the shared cache.
    headerDir = path.join(tmp.dir, 'vmlinux');
    fs.mkdirSync(headerDir);
    fs.copyFileSync(path.join((await ensureVmlinuxHeader()).dir, 'vmlinux.h'), path.join(headerDir, 'vmlinux.h'));
  });
  afterAll(() => tmp.cleanup());

  it.skipIf(!bpftool)('gives the same BTF and code as a plain compile', async () => {
    const withPch = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'pch.o'), vmlinuxHeaderDir: headerDir });
    const plain = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'plain.o'), vmlinuxHeaderDir: headerDir, precompiledHeader: false });
    expect(withPch.pch).toMatch(/vmlinux\.[0-9a-f]{16}\.pch$/);
    expect(withPch.command).toEqual(expect.arrayContaining(['-include-pch', withPch.pch]));
    expect(plain.pch).toBeUndefined();
    const dump = (o: string, what: string[]): string => spawnSync(bpftool ?? 'bpftool', [...what, o], { encoding: 'utf8' }).stdout;
    expect(dump(path.join(tmp.dir, 'pch.o'), ['btf', 'dump', 'file'])).toBe(dump(path.join(tmp.dir, 'plain.o'), ['btf', 'dump', 'file']));
    const code = (o: string): string => spawnSync('llvm-objdump', ['-d', '--no-show-raw-insn', o], { encoding: 'utf8' }).stdout.split('\n').slice(2).join('\n');
    expect(code(path.join(tmp.dir, 'pch.o'))).toBe(code(path.join(tmp.dir, 'plain.o')));
    expect(withPch.diagnostics).toEqual(plain.diagnostics);
  });

  it('a corrupt PCH is dropped and the build still succeeds', async () => {
    const first = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'a.o'), vmlinuxHeaderDir: headerDir });
    expect(first.pch).toBeDefined();
    fs.writeFileSync(first.pch ?? '', 'not a precompiled header');
    const second = await compileBpf({ file: seed, outFile: path.join(tmp.dir, 'b.o'), vmlinuxHeaderDir: headerDir });
    expect(second.ok).toBe(true);
    expect(second.pch).toBeUndefined();
    expect(second.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(fs.existsSync(first.pch ?? '')).toBe(false);
  });

  it('is not used when a vmlinux.h sits next to the program', async () => {
    const dir = path.join(tmp.dir, 'local');
    fs.mkdirSync(dir);
    fs.copyFileSync(seed, path.join(dir, 'seed.bpf.c'));
    fs.copyFileSync(path.join(headerDir, 'vmlinux.h'), path.join(dir, 'vmlinux.h'));
    const r = await compileBpf({ file: path.join(dir, 'seed.bpf.c'), outFile: path.join(dir, 'x.o'), vmlinuxHeaderDir: headerDir });
    expect(r.ok).toBe(true);
    expect(r.pch).toBeUndefined();
  });
});
