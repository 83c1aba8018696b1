// Objects that are not (usable) BPF objects: each gets one clear message naming the
// cause and a hint with the fix — from the core reader and from `lint`/`build` as a
// user runs them. (`run` with the same files: test/integration/hardening/badObjects.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { buildCommand } from '../../../cli/commands/build';
import { lintCommand } from '../../../cli/commands/lint';
import { readBpfObject, requireBtf } from '../../../core/elf/bpfObject';
import { ElfError } from '../../../core/elf/elf';
import { StudioError } from '../../../core/util/errors';
import { makeBadObjects, type BadObjects } from './badObjects';
import { thrown } from '../../support/thrown';

async function cli(cmd: typeof lintCommand, argv: string[], cwd: string): Promise<{ code: number | string; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, cwd, signal: new AbortController().signal };
  try {
    return { code: await cmd.run(argv, io), out, err };
  } catch (e) {
    // What cli/main.ts prints for a thrown StudioError: message and hint, no stack.
    expect(e, `${cmd.name} ${argv.join(' ')} threw a non-StudioError: ${String(e)}`).toBeInstanceOf(StudioError);
    const s = e as StudioError;
    return { code: 'thrown', out, err: `${err}${s.message}\n  hint: ${s.hint ?? '(none)'}` };
  }
}

let bad: BadObjects;
beforeAll(async () => {
  bad = await makeBadObjects();
});

describe('core: bad objects are typed errors with a hint', () => {
  it('not ELF', () => {
    expect(() => readBpfObject(fs.readFileSync(bad.notElf), { file: 'notes.bpf.o' })).toThrow(/not an ELF file/);
  });
  it('ELF that is not BPF (/bin/true) names the machine', () => {
    const e = thrown(() => readBpfObject(fs.readFileSync(bad.notBpf)));
    expect(e).toBeInstanceOf(ElfError);
    expect((e as ElfError).message).toMatch(/not a BPF object \(machine 62, x86-64\)/);
    expect((e as ElfError).hint).toMatch(/clang -O2 -g -target bpf/);
  });
  it('big-endian object for a little-endian target', () => {
    const bytes = fs.readFileSync(bad.bigEndian);
    expect(readBpfObject(bytes).littleEndian).toBe(false); // readable (lint works on it)…
    expect(() => readBpfObject(bytes, { targetEndian: 'little' })).toThrow(/big-endian \(bpfeb\) but the target is little-endian; compile with -target bpf/);
  });
  it.each([['without -g', 'noDebugInfo'], ['with .BTF removed by llvm-objcopy', 'btfStripped']] as const)('object %s: no BTF, say -g', (_what, key) => {
    const obj = readBpfObject(fs.readFileSync(bad[key]), { file: path.basename(bad[key]) });
    expect(obj.hasBtf).toBe(false);
    const e = thrown(() => requireBtf(obj)) as StudioError;
    expect(e).toBeInstanceOf(StudioError);
    expect(e.code).toBe('ENOBTF');
    expect(e.message).toContain(`${path.basename(bad[key])} has no BTF`);
    expect(e.hint).toMatch(/rebuild with -g/);
  });
  it('truncated header', () => {
    expect(() => readBpfObject(fs.readFileSync(bad.truncated))).toThrow(/truncated ELF header \(40 of 64 bytes\)/);
  });
});

describe('ringbuf-studio lint / build on bad objects', () => {
  const cases: Array<[keyof Omit<BadObjects, 'dir'>, RegExp, RegExp]> = [
    ['notElf', /notes\.bpf\.o is not a compiled BPF object \(no ELF header\)/, /prog\.bpf\.c/],
    ['notBpf', /not a BPF object \(machine 62, x86-64\)/, /-target bpf/],
    ['noDebugInfo', /nog\.bpf\.o has no BTF/, /rebuild with -g/],
    ['btfStripped', /stripped\.bpf\.o has no BTF/, /rebuild with -g/],
    ['truncated', /truncated ELF header/, /rebuild/],
  ];
  it.each(cases)('lint %s: message and hint, no stack trace', async (key, message, hint) => {
    const r = await cli(lintCommand, [path.basename(bad[key])], bad.dir);
    expect(r.code).toBe('thrown');
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(hint);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('lint of a big-endian object still lints (the checks do not depend on byte order)', async () => {
    const r = await cli(lintCommand, [path.basename(bad.bigEndian), '--format', 'json'], bad.dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
  });

  it.each(['notElf', 'notBpf'] as const)('build of an object (%s) says it is not C source, not a bare errno', async (key) => {
    const r = await cli(buildCommand, [path.basename(bad[key])], bad.dir);
    expect(r.code).toBe('thrown');
    expect(r.err).toMatch(/clang wrote no object for .*: it did not treat the file as C source/);
    expect(r.err).toMatch(/lint or run it directly/);
    expect(r.err).not.toMatch(/ENOENT|rename/);
  });
});
