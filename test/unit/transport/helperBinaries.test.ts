// Helper discovery (one place, every transport): explicit override for the arch it is
// built for → next to the installed package → a clear error; arches from a closed set.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findHelperBinary, HELPER_ENV, helperArchOf, helperFileName } from '../../../core/transport/helperBinaries';
import type { HelperArch } from '../../../core/transport/types';
import { StudioError } from '../../../core/util/errors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-helperbin-'));
const repo = path.resolve(__dirname, '../../..');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[HELPER_ENV];
});

function file(rel: string, body: string | Buffer = '#!/bin/sh\necho\n'): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body, { mode: 0o755 });
  return p;
}

describe('findHelperBinary', () => {
  it('prefers dist/helper (the bundle) over helper/build (a checkout), inside the package root only', () => {
    const pkg = path.join(tmp, 'pkg');
    const built = file('pkg/helper/build/ringbuf-helper-x86_64');
    expect(findHelperBinary('x86_64', { packageRoot: pkg })).toBe(built);
    const bundled = file('pkg/dist/helper/ringbuf-helper-x86_64');
    expect(findHelperBinary('x86_64', { packageRoot: pkg })).toBe(bundled);
  });

  it('an explicit override wins — for the arch its ELF header names; another arch still comes from the package', () => {
    const pkg = path.join(tmp, 'pkg2');
    const x86 = file('pkg2/dist/helper/ringbuf-helper-x86_64');
    const arm = file('pkg2/dist/helper/ringbuf-helper-aarch64');
    const ownArm = file('own/my-arm-helper', fs.readFileSync(path.join(repo, 'helper/build/ringbuf-helper-aarch64')));
    expect(findHelperBinary('aarch64', { packageRoot: pkg, helperPath: ownArm })).toBe(ownArm);
    expect(findHelperBinary('x86_64', { packageRoot: pkg, helperPath: ownArm })).toBe(x86);
    process.env[HELPER_ENV] = ownArm;
    expect(findHelperBinary('aarch64', { packageRoot: pkg })).toBe(ownArm);
    // A wrapper script names no arch: it is what the user asked for, whatever the arch.
    const wrapper = file('own/wrapper.sh');
    expect(findHelperBinary('x86_64', { packageRoot: pkg, helperPath: wrapper })).toBe(wrapper);
    expect(findHelperBinary('aarch64', { packageRoot: pkg, helperPath: wrapper })).toBe(wrapper);
    void arm;
  });

  it('says how to build a missing one, and names a missing explicit path', () => {
    const err = (() => {
      try {
        return findHelperBinary('aarch64', { packageRoot: path.join(tmp, 'empty') });
      } catch (e) {
        return e;
      }
    })() as StudioError;
    expect(err).toBeInstanceOf(StudioError);
    expect(err.code).toBe('ENOHELPER');
    expect(err.message).toMatch(/no ringbuf-helper-aarch64 found \(looked in .*empty\/dist\/helper and .*empty\/helper\/build\)/);
    expect(err.hint).toMatch(/make -C helper aarch64/);
    expect(() => findHelperBinary('x86_64', { helperPath: path.join(tmp, 'missing') })).toThrow(/does not exist/);
  });

  it('builds file names only from the closed set of arches', () => {
    expect(helperFileName('aarch64')).toBe('ringbuf-helper-aarch64');
    expect(() => helperFileName('x86_64/../../../etc/passwd' as HelperArch)).toThrow(/not a helper architecture/);
    expect(() => findHelperBinary('../x' as HelperArch, { packageRoot: tmp })).toThrow(/not a helper architecture/);
  });
});

describe("a target's `uname -m` (trust item 1)", () => {
  it('normalises the names we ship for', () => {
    expect(helperArchOf('x86_64', 't')).toBe('x86_64');
    expect(helperArchOf('amd64', 't')).toBe('x86_64');
    expect(helperArchOf('aarch64\n', 't')).toBe('aarch64');
    expect(helperArchOf('arm64', 't')).toBe('aarch64');
  });

  it('refuses anything else, naming the target and what it reported (control characters escaped)', () => {
    expect(() => helperArchOf('x86_64/../../etc', 'vm1')).toThrow(
      "vm1 reports architecture 'x86_64/../../etc' which Ringbuf Studio has no helper for (x86_64, aarch64)",
    );
    expect(() => helperArchOf('riscv64', 'vm1')).toThrow(/'riscv64' which Ringbuf Studio has no helper for/);
    expect(() => helperArchOf('\x1b[2J\x1b]0;pwned\x07x86_64', 'vm1')).toThrow("reports architecture '\\x1b[2J\\x1b]0;pwned\\x07x86_64'");
    expect(() => helperArchOf('', 'vm1')).toThrow(/reports architecture ''/);
    try {
      helperArchOf('/home/me/.ssh/id_ed25519', 'vm1');
    } catch (err) {
      expect((err as StudioError).code).toBe('EHELPERARCH');
    }
  });
});
