// Finding clang: a broken setting, an empty PATH, a clang without the BPF target.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileBpf } from '../../../core/compile/build';
import { findClang } from '../../../core/compile/clang';
import { StudioError } from '../../../core/util/errors';
import { fixturesDir, tempDir } from './helpers';

const seed = path.join(fixturesDir, 'seed.bpf.c');

describe('findClang', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('finds the real clang on PATH with its version and the BPF target', async () => {
    const info = await findClang();
    expect(fs.existsSync(info.path)).toBe(true);
    expect(info.major).toBeGreaterThanOrEqual(11);
    expect(info.version).toMatch(new RegExp(`^${info.major}\\.\\d+`));
    expect(info.hasBpfTarget).toBe(true);
  });

  it('a clangPath setting pointing to a missing file is a clear error naming the path and the package', async () => {
    const err = await findClang({ clangPath: '/nonexistent/bin/clang' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    const e = err as StudioError;
    expect(e.code).toBe('ENOCLANG');
    expect(e.message).toContain('/nonexistent/bin/clang');
    expect(e.hint).toContain('apt-get install clang llvm');
  });

  it('compileBpf reports the same error instead of a spawn failure', async () => {
    await expect(compileBpf({ file: seed, clangPath: '/nonexistent/bin/clang' })).rejects.toMatchObject({
      code: 'ENOCLANG',
      message: expect.stringContaining('clang not found'),
    });
  });

  it('no clang on PATH: says what it tried and what to install', async () => {
    const tmp = tempDir('nopath');
    try {
      process.env.PATH = tmp.dir;
      await expect(findClang()).rejects.toMatchObject({
        code: 'ENOCLANG',
        message: expect.stringMatching(/clang not found on PATH \(tried clang, clang-21/),
        hint: expect.stringContaining('apt-get install clang llvm'),
      });
    } finally {
      tmp.cleanup();
    }
  });

  it('only programs on PATH that are not clang: says why the first one was refused', async () => {
    const tmp = tempDir('notclang');
    try {
      fs.symlinkSync('/bin/true', path.join(tmp.dir, 'clang'));
      process.env.PATH = tmp.dir;
      await expect(findClang()).rejects.toMatchObject({
        code: 'ENOCLANG',
        message: expect.stringMatching(/clang found \(.*\/clang\) but none of them runs: .*does not look like clang/),
      });
    } finally {
      tmp.cleanup();
    }
  });

  it('a program that is not clang is refused with what it printed', async () => {
    await expect(findClang({ clangPath: '/bin/true' })).rejects.toMatchObject({ code: 'ENOCLANG', message: expect.stringContaining('does not look like clang') });
  });

  // FAKE (named as such): a clang built without the BPF backend cannot be installed
  // here, so a script answers --version and -print-targets like such a clang would.
  it('a clang without the BPF target is refused with a clear message', async () => {
    const tmp = tempDir('nobpf');
    try {
      const fake = path.join(tmp.dir, 'fake-clang-without-bpf');
      fs.writeFileSync(
        fake,
        [
          '#!/bin/sh',
          'case "$1" in',
          '  --version) echo "clang version 15.0.7"; echo "Target: x86_64-pc-linux-gnu" ;;',
          '  -print-targets) echo "  Registered Targets:"; echo "    x86    - 32-bit X86: Pentium-Pro and above"; echo "    x86-64 - 64-bit X86: EM64T and AMD64" ;;',
          '  *) echo "error: unknown target triple \'bpf\'" >&2; exit 1 ;;',
          'esac',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      expect(await findClang({ clangPath: fake })).toMatchObject({ major: 15, hasBpfTarget: false });
      await expect(compileBpf({ file: seed, clangPath: fake })).rejects.toMatchObject({
        code: 'ENOBPFTARGET',
        message: expect.stringContaining('without the BPF target'),
      });
    } finally {
      tmp.cleanup();
    }
  });
});
