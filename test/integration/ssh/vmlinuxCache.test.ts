// The target's vmlinux.h is cached locally by (kernel release, BTF sha256 from the connect
// probe): a warm run does not fetch it again; a different BTF hash fetches it again.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetVmlinuxHeader } from '../../../core/run/run';
import type { HelperProcess, SpawnHelperOptions, TargetConnection, TargetInfo } from '../../../core/transport/types';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import type { SshTarget } from '../../../core/transport/ssh/target';
import { available, ensureBpfMounts } from '../../support/prereq';
import { startSshd } from '../../support/sshd';
import type { SshdInstance } from '../../support/sshd';

const hasAll = available('sshd') && available('bpf');

/**
 * The real SSH target, counting `vmlinux-h` fetches. `btfSha256` can be overridden: a
 * rebuilt kernel with the same release (new BTF) is a fault we cannot cause on this host.
 */
class CountingTarget implements TargetConnection {
  readonly kind = 'ssh' as const;
  fetches = 0;
  btfOverride: string | undefined;
  constructor(private readonly real: SshTarget) {}
  get name(): string {
    return this.real.name;
  }
  get info(): TargetInfo | undefined {
    const real = this.real.info;
    return real && { ...real, btfSha256: this.btfOverride ?? real.btfSha256 };
  }
  spawnHelper(args: readonly string[], options?: SpawnHelperOptions): Promise<HelperProcess> {
    if (args[0] === 'vmlinux-h') this.fetches++;
    return this.real.spawnHelper(args, options);
  }
  close(): Promise<void> {
    return this.real.close();
  }
}

describe.skipIf(!hasAll)("target vmlinux.h cache (kernel release + BTF hash)", () => {
  let sshd: SshdInstance;
  let work: string;
  let target: CountingTarget;

  beforeAll(async () => {
    ensureBpfMounts();
    sshd = await startSshd();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-vmlinux-cache-'));
    const known = path.join(work, 'known_hosts');
    fs.writeFileSync(known, `${sshd.knownHostsLine}\n`);
    const cfg = path.join(work, 'ssh_config');
    fs.writeFileSync(cfg, `Host t\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`);
    const real = await connectSshTarget('t', { sshConfigPath: cfg, knownHostsPath: known, agentSocket: '/nonexistent', remoteCacheDir: path.join(work, 'remote') });
    target = new CountingTarget(real);
  }, 60_000);
  afterAll(async () => {
    await target?.close();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('the connect probe reports the BTF hash of the target (loopback: this kernel)', () => {
    const local = crypto.createHash('sha256').update(fs.readFileSync('/sys/kernel/btf/vmlinux')).digest('hex');
    expect(target.info?.btfSha256).toBe(local);
  });

  it('fetches once, then a second run reuses the cached header; a new BTF hash fetches again', async () => {
    const cacheDir = path.join(work, 'local-cache');
    const release = os.release();
    const first = await targetVmlinuxHeader(target, release, { cacheDir });
    expect(first.cached).toBe(false);
    expect(target.fetches).toBe(1);
    expect(fs.readFileSync(path.join(first.dir, 'vmlinux.h'), 'utf8')).toMatch(/struct task_struct \{/);

    const second = await targetVmlinuxHeader(target, release, { cacheDir });
    expect(second).toMatchObject({ cached: true, dir: first.dir });
    expect(target.fetches).toBe(1);

    target.btfOverride = 'ab'.repeat(32);
    const rebuilt = await targetVmlinuxHeader(target, release, { cacheDir });
    expect(rebuilt.cached).toBe(false);
    expect(rebuilt.dir).not.toBe(first.dir);
    expect(target.fetches).toBe(2);
  }, 120_000);
});
