// The aarch64 helper (Debian multiarch cross-build, shipped in the .vsix next to the
// x86_64 one): a static aarch64 ELF, read with our own ELF reader, that starts under
// user-mode QEMU and reports the same version and protocol as the x86_64 build.
// CI installs the cross toolchain (scripts/setup.sh test → helper/setup-aarch64.sh),
// so there a missing toolchain fails this file instead of skipping it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../../core/elf/elf';
import { findHelperBinary, helperArchOf } from '../../../core/transport/helperBinaries';

const root = path.resolve(__dirname, '../../..');
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const ET_EXEC = 2;
const QEMU = '/usr/bin/qemu-aarch64-static';

const crossReady = fs.existsSync('/usr/bin/aarch64-linux-gnu-gcc') && fs.existsSync(QEMU);
const required = process.env.CI === 'true' || process.env.REQUIRE_AARCH64 === '1';
if (!crossReady) {
  const why = 'no aarch64 cross toolchain or qemu-user-static (bash helper/setup-aarch64.sh installs them)';
  if (required) throw new Error(`CI needs the aarch64 helper build: ${why}`);
  console.warn(`skipping the aarch64 helper tests: ${why}`);
}

function elfOf(file: string): ReturnType<typeof parseElf> {
  return parseElf(new Uint8Array(fs.readFileSync(file)));
}

describe.skipIf(!crossReady)('aarch64 helper', () => {
  beforeAll(() => {
    // Incremental: both arches, so a multiarch apt upgrade that broke the x86_64 link shows here too.
    execFileSync('make', ['-s', '-C', path.join(root, 'helper'), 'all', 'aarch64'], { stdio: 'inherit' });
  }, 180_000);

  it('is a static little-endian aarch64 executable (no interpreter, no dynamic section)', () => {
    const elf = elfOf(path.join(root, 'helper/build/ringbuf-helper-aarch64'));
    expect(elf.machine).toBe(EM_AARCH64);
    expect(elf.littleEndian).toBe(true);
    expect(elf.type).toBe(ET_EXEC);
    expect(elf.section('.interp')).toBeUndefined();
    expect(elf.section('.dynamic')).toBeUndefined();
    // And the x86_64 build still is what it claims to be, after the arm64 libs were installed.
    const x86 = elfOf(path.join(root, 'helper/build/ringbuf-helper-x86_64'));
    expect(x86.machine).toBe(EM_X86_64);
    expect(x86.section('.interp')).toBeUndefined();
  });

  it('starts under qemu-aarch64-static and prints the same version as the x86_64 build', () => {
    const arm = execFileSync(QEMU, [path.join(root, 'helper/build/ringbuf-helper-aarch64'), '--version']).toString();
    const x86 = execFileSync(path.join(root, 'helper/build/ringbuf-helper-x86_64'), ['--version']).toString();
    expect(arm).toMatch(/^ringbuf-helper \d+\.\d+\.\d+ protocol \d+\n$/);
    expect(arm).toBe(x86);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(arm).toContain(` ${pkg.version} `);
  });

  it('is where an SSH target with `uname -m` = aarch64 or arm64 looks for it (the packaged path)', () => {
    for (const unameM of ['aarch64', 'arm64']) {
      const file = findHelperBinary(helperArchOf(unameM, 'an arm64 host'));
      expect(path.basename(file)).toBe('ringbuf-helper-aarch64');
      expect(elfOf(file).machine).toBe(EM_AARCH64);
    }
    // The .vsix ships dist/helper/** (see .vscodeignore); make copies the build there.
    const bundled = path.join(root, 'dist/helper/ringbuf-helper-aarch64');
    expect(fs.readFileSync(bundled).equals(fs.readFileSync(path.join(root, 'helper/build/ringbuf-helper-aarch64')))).toBe(true);
    expect(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8')).toMatch(/^!dist\/helper\/\*\*$/m);
  });
});
