// The target's vmlinux.h in the local cache (trust item 2): keyed by the header text we
// received and by the target's identity. A warm run fetches nothing when the target
// reports the BTF hash recorded for THAT target; another target reporting the same hash,
// and the local host, are never served its header.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVmlinuxHeader, targetVmlinuxHeader } from '../../../core/compile/vmlinux';
import type { SshTarget } from '../../../core/transport/ssh/target';
import { connectSshTarget } from '../../../core/transport/ssh/index';
import type { HelperProcess, SpawnHelperOptions, TargetConnection, TargetInfo } from '../../../core/transport/types';
import { available, ensureBpfMounts } from '../../support/prereq';
import { startSshd } from '../../support/sshd';
import type { SshdInstance } from '../../support/sshd';

const hasAll = available('sshd') && available('bpf');
const POISON = '\nstruct planted_by_the_target { int x; };\n';

/**
 * The real SSH target, counting `vmlinux-h` fetches. Faults we cannot cause on this host,
 * named as such: `btfOverride` (a rebuilt kernel with the same release), `identityOverride`
 * (a second machine behind the same loopback), `poison` (a target whose helper returns a
 * header of its choosing — the hostile tier does that one for real).
 */
class CountingTarget implements TargetConnection {
  fetches = 0;
  btfOverride: string | undefined;
  identityOverride: string | undefined;
  poison = false;
  constructor(private readonly real: SshTarget) {}
  get name(): string {
    return this.real.name;
  }
  get identity(): string {
    return this.identityOverride ?? this.real.identity;
  }
  get capabilities(): TargetConnection['capabilities'] {
    return this.real.capabilities;
  }
  get info(): TargetInfo | undefined {
    const real = this.real.info;
    return real && { ...real, btfSha256: this.btfOverride ?? real.btfSha256 };
  }
  async spawnHelper(args: readonly string[], options?: SpawnHelperOptions): Promise<HelperProcess> {
    if (args[0] === 'vmlinux-h') this.fetches++;
    const proc = await this.real.spawnHelper(args, options);
    if (args[0] !== 'vmlinux-h' || !this.poison) return proc;
    const stdout = new PassThrough();
    proc.stdout.pipe(stdout, { end: false });
    proc.stdout.on('end', () => stdout.end(POISON));
    return { ...proc, stdout, stdin: proc.stdin, stderr: proc.stderr, exited: proc.exited, terminate: (g) => proc.terminate(g) };
  }
  close(): Promise<void> {
    return this.real.close();
  }
}

describe.skipIf(!hasAll)('target vmlinux.h cache (content + identity)', () => {
  let sshd: SshdInstance;
  let work: string;
  let target: CountingTarget;
  const header = (dir: string): string => fs.readFileSync(path.join(dir, 'vmlinux.h'), 'utf8');

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

  it('the connect probe reports the BTF hash of the target (loopback: this kernel), and an identity with the host key', () => {
    const local = crypto.createHash('sha256').update(fs.readFileSync('/sys/kernel/btf/vmlinux')).digest('hex');
    expect(target.info?.btfSha256).toBe(local);
    expect(target.identity).toBe(`ssh:root@127.0.0.1:${sshd.port}/${sshd.hostKeyFingerprint}`);
  });

  it('fetches once, then a second run reuses the cached header; a new BTF hash fetches again', async () => {
    const cacheDir = path.join(work, 'warm');
    const first = await targetVmlinuxHeader(target, { cacheDir });
    expect(first.cached).toBe(false);
    expect(target.fetches).toBe(1);
    expect(header(first.dir)).toMatch(/struct task_struct \{/);
    expect(first.btfHash).toBe(crypto.createHash('sha256').update(header(first.dir)).digest('hex')); // keyed by what we received

    const second = await targetVmlinuxHeader(target, { cacheDir });
    expect(second).toMatchObject({ cached: true, dir: first.dir });
    expect(target.fetches).toBe(1);

    target.btfOverride = 'ab'.repeat(32);
    const rebuilt = await targetVmlinuxHeader(target, { cacheDir });
    expect(target.fetches).toBe(2);
    expect(rebuilt.dir).toBe(first.dir); // same text received: same content entry
    target.btfOverride = undefined;
  }, 120_000);

  it("another target reporting the same BTF hash never gets this target's header: it fetches its own", async () => {
    const cacheDir = path.join(work, 'two-targets');
    target.fetches = 0;
    target.poison = true;
    const a = await targetVmlinuxHeader(target, { cacheDir });
    expect(header(a.dir)).toContain('planted_by_the_target');
    target.poison = false;
    target.identityOverride = `ssh:root@127.0.0.1:${sshd.port}/SHA256:another-host-key`;
    const b = await targetVmlinuxHeader(target, { cacheDir });
    expect(target.fetches).toBe(2);
    expect(b.dir).not.toBe(a.dir);
    expect(header(b.dir)).not.toContain('planted_by_the_target');
    target.identityOverride = undefined;
  }, 120_000);

  it('a target claiming this machine\'s release and BTF hash does not plant the local header', async () => {
    const cacheDir = path.join(work, 'poison');
    target.poison = true;
    const remote = await targetVmlinuxHeader(target, { cacheDir });
    target.poison = false;
    expect(target.info?.kernel).toBe(os.release());
    expect(header(remote.dir)).toContain('planted_by_the_target');
    const local = await ensureVmlinuxHeader({ cacheDir });
    expect(local.cached).toBe(false); // generated here, from this machine's BTF
    expect(header(local.dir)).not.toContain('planted_by_the_target');
    expect(path.relative(cacheDir, local.dir).split(path.sep)[0]).toBe('local');
    expect(path.relative(cacheDir, remote.dir).split(path.sep)[0]).toBe('targets');
  }, 120_000);
});
