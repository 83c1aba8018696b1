// A `qemu:<name>` target: the guest booted (or found running), an agent link on a port of
// our own, and the helper in the guest — the one in its initramfs when it is ours, else
// uploaded once per boot into /run and checked by sha256. Everything runs as root there.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateVmlinuxHeaderText } from '../localVmlinux';
import { StudioError } from '../../util/errors';
import { findHelperBinary, helperArchOf } from '../helperBinaries';
import type { HelperProcess, RemoteProcess, RemoteSpawnOptions, SpawnHelperOptions, TargetCapabilities, TargetConnection, TargetInfo } from '../types';
import type { AgentLink } from './agentLink';
import { catalogueKernel, type CatalogueKernel } from './catalogue';
import { GUEST_HELPER_PATH } from './initramfs';
import { openGuestLink, updateRecord, type GuestOptions, type GuestRecord } from './machine';

export interface QemuConnectOptions extends GuestOptions {
  /** The local helper binary (ringbufStudio.helperPath / --helper); default: the bundled one for the guest's arch. */
  helperPath?: string;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export class QemuTarget implements TargetConnection {
  readonly kind = 'qemu' as const;
  /** For caches: the catalogue name and the exact kernel package it boots (it moves with Debian). */
  readonly identity: string;
  readonly capabilities: TargetCapabilities = { sharesHostKernel: false, canUpload: true, canRunCommands: true };
  /** How many times this connection uploaded the helper (0 when the guest's own copy was current). */
  uploads = 0;
  helperPath = GUEST_HELPER_PATH;
  info: TargetInfo;

  private constructor(
    readonly name: string,
    readonly shell: AgentLink,
    readonly record: GuestRecord,
    private readonly kernel: CatalogueKernel,
  ) {
    this.info = { arch: helperArchOf(record.arch, name), kernel: record.kernel.release, ...(record.btfSha256 ? { btfSha256: record.btfSha256 } : {}) };
    this.identity = `qemu:${kernel.name}/${record.kernel.package}_${record.kernel.version}`;
  }

  static async connect(spec: string, opts: QemuConnectOptions = {}): Promise<QemuTarget> {
    const k = catalogueKernel(spec);
    const { link, record } = await openGuestLink(k, opts);
    const target = new QemuTarget(spec, link, record, k);
    try {
      await target.prepare(opts.helperPath);
    } catch (err) {
      await link.close();
      throw err;
    }
    return target;
  }

  /** sha256 of a file in the guest; undefined when it does not exist. */
  private async sha256In(remote: string): Promise<string | undefined> {
    const r = await this.shell.exec(['sha256sum', remote]);
    const hash = r.code === 0 ? /^[0-9a-f]{64}/.exec(r.stdout.toString())?.[0] : undefined;
    if (hash || /No such file/.test(r.stderr.toString())) return hash;
    throw new StudioError(`${this.name}: sha256sum ${remote} failed: ${r.stderr.toString().trim() || `exit ${r.code ?? r.signal}`}`, { code: 'EVMEXEC' });
  }

  private async prepare(helperPath: string | undefined): Promise<void> {
    if (!this.info.btfSha256) {
      const btf = await this.sha256In('/sys/kernel/btf/vmlinux');
      if (!btf) throw new StudioError(`${this.name} (Linux ${this.info.kernel}) has no kernel BTF (/sys/kernel/btf/vmlinux)`, { code: 'ENOBTF', hint: 'pick a kernel built with CONFIG_DEBUG_INFO_BTF=y' });
      this.info = { ...this.info, btfSha256: btf };
      updateRecord(this.kernel, this.record.pid, { btfSha256: btf }); // later connections skip this round trip
    }
    const local = findHelperBinary(this.info.arch, helperPath ? { helperPath } : {});
    const want = sha256(local);
    if (want === this.record.helperSha256) return;
    // A helper rebuilt since the guest booted (or another --helper): upload it once into /run.
    const remote = `/run/ringbuf-studio/ringbuf-helper-${want.slice(0, 16)}`;
    this.helperPath = remote;
    if ((await this.sha256In(remote)) === want) return;
    const tmp = `${remote}.upload-${crypto.randomBytes(6).toString('hex')}`;
    await this.shell.exec(['mkdir', '-p', '/run/ringbuf-studio']);
    await this.shell.putFile(local, tmp, 0o755);
    const mv = await this.shell.exec(['mv', '-f', tmp, remote]);
    if (mv.code !== 0 || (await this.sha256In(remote)) !== want) {
      throw new StudioError(`uploading the helper to ${this.name} failed verification`, { code: 'EHELPERUPLOAD', detail: mv.stderr.toString() });
    }
    this.uploads++;
  }

  /** vmlinux.h from the guest's BTF, made on this machine: the helper's btf_dump under TCG takes ~20 s. */
  async vmlinuxHeaderText(opts: { signal?: AbortSignal } = {}): Promise<string> {
    const btf = await this.shell.exec(['cat', '/sys/kernel/btf/vmlinux'], { timeoutMs: 60_000, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (btf.code !== 0 || !btf.stdout.length) throw new StudioError(`cannot read the kernel BTF of ${this.name}: ${btf.stderr.toString().trim()}`, { code: 'ENOBTF' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-vm-btf-'));
    try {
      fs.writeFileSync(path.join(dir, 'vmlinux'), btf.stdout);
      return await generateVmlinuxHeaderText(path.join(dir, 'vmlinux'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async spawnHelper(args: readonly string[], options: SpawnHelperOptions = {}): Promise<HelperProcess> {
    return this.shell.spawn([this.helperPath, ...args], options.signal ? { signal: options.signal } : {});
  }

  /**
   * Copies a local file (e.g. a static trigger binary a test names) into the guest once, by
   * content, and returns its path there: /run/ringbuf-studio/files/<sha256 prefix>/<name>.
   */
  async stageFile(localPath: string, mode = 0o755): Promise<string> {
    const sha = sha256(localPath);
    const dir = `/run/ringbuf-studio/files/${sha.slice(0, 16)}`;
    const remote = `${dir}/${path.basename(localPath)}`;
    if ((await this.sha256In(remote)) === sha) return remote;
    await this.shell.exec(['mkdir', '-p', dir]);
    await this.shell.putFile(localPath, remote, mode);
    if ((await this.sha256In(remote)) !== sha) throw new StudioError(`copying ${localPath} into ${this.name} failed verification`, { code: 'EVMPUT' });
    return remote;
  }

  /** Runs a command in the guest (live-test triggers, `run -- CMD`): busybox and bash are there. */
  spawnCommand(argv: readonly string[], opts: RemoteSpawnOptions = {}): Promise<RemoteProcess> {
    return this.shell.spawn(argv, opts);
  }

  close(): Promise<void> {
    return this.shell.close();
  }
}
