// The same programs on two kernels at once: this host (6.18) and Debian's 6.1 booted in
// QEMU as an SSH target. A verdict per target; each category on its line on both; and a
// program that 6.18 rejects as too complex while 6.1 loads it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyProgram, type TargetVerdict } from '../../../core/run/verify';
import type { ConnectTargetOptions } from '../../../core/transport/registry';
import { available } from '../../support/prereq';
import { bootGuest, type QemuGuest } from '../../support/qemu';
import { prepare, root } from '../run/support';

const dir = path.join(root, 'test/fixtures/verifier');
const fixture = (name: string): string => path.join(dir, `${name}.bpf.c`);
const lineOf = (file: string, marker: string): number => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

describe.skipIf(!(available('bpf') && available('qemu')))('verify on 6.18 (this host) and 6.1 (QEMU) at once', () => {
  let guest: QemuGuest;
  let connect: ConnectTargetOptions;

  beforeAll(async () => {
    prepare();
    guest = await bootGuest({ log: (m) => console.log(`qemu: ${m}`) });
    connect = { sshConfigPath: guest.sshConfig, knownHostsPath: guest.knownHosts, agentSocket: '/nonexistent', readyTimeoutMs: 60_000 };
  }, 240_000);
  afterAll(async () => {
    await guest?.stop();
  });

  const verify = (name: string): Promise<TargetVerdict[]> => verifyProgram(fixture(name), { targets: ['local', guest.alias], logLevel: 2, connect });

  it.each([
    ['null_check', 'null-check'],
    ['out_of_bounds', 'out-of-bounds'],
    ['unreleased_reference', 'unreleased-reference'],
    ['invalid_access', 'invalid-access'],
    ['unbounded_loop', 'unbounded-loop'],
    ['other', 'other'],
  ])('%s: %s on the marked line on both kernels, each verdict naming its kernel', async (name, category) => {
    const verdicts = await verify(name);
    expect(verdicts.map((v) => v.target)).toEqual(['local', guest.alias]);
    expect(verdicts[1]?.kernel).toBe(guest.kernel.release);
    for (const v of verdicts) {
      expect(v.failure, v.failure?.message).toBeUndefined();
      expect(v.programs[0]?.error).toMatchObject({ category, at: { line: lineOf(fixture(name), 'REJECTED HERE') } });
    }
  }, 180_000);

  it('too_complex: rejected at the 1M-instruction limit on 6.18, loads on 6.1', async () => {
    const [host, old] = await verify('too_complex');
    expect(host?.programs[0]).toMatchObject({ loaded: false, insnsProcessed: 1000001, error: { category: 'too-complex' } });
    expect(old?.failure).toBeUndefined();
    expect(old?.programs[0]).toMatchObject({ loaded: true, error: null });
  }, 240_000);
});
