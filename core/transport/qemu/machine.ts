// One guest per catalogue kernel, shared by every process of this user (CLI, extension,
// tests): QEMU daemonizes, its pid and ports live in guests/<name>/, and guest.json says
// what runs there. A boot holds a lock so two processes never boot the same guest; each
// host process then claims a port of its own (another lock) for its agent link. The guest
// powers itself off after `idleSec` with no port connected and nothing running.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError, messageOf } from '../../util/errors';
import { findOnPath } from '../../util/which';
import { findHelperBinary, hostHelperArch } from '../helperBinaries';
import type { HelperArch } from '../types';
import { AgentLink } from './agentLink';
import type { Log } from './archive';
import { QEMU_PREFIX, type CatalogueKernel } from './catalogue';
import { writeInitramfs } from './initramfs';
import { cachedKernel, ensureKernel, type KernelFiles } from './kernel';
import { acquireLock, isLockHeld, tryLock, type HeldLock } from './lock';
import { vmPaths, vmRoot } from './paths';
import { cachedUserland, ensureUserland } from './userland';

/** Host processes that can talk to one guest at the same time (one port each). */
export const GUEST_PORTS = 8;
export const DEFAULT_MEMORY_MB = 512;
export const MAX_MEMORY_MB = 512;
export const DEFAULT_IDLE_SEC = 600;
const DEFAULT_BOOT_TIMEOUT_MS = 120_000;

export interface GuestOptions {
  memoryMb?: number;
  /** Power off after this long unused (0 = never). */
  idleSec?: number;
  /** vCPUs (default 1: TCG runs one host thread per vCPU). */
  cpus?: number;
  bootTimeoutMs?: number;
  /** Download a newer kernel if Debian has one (otherwise the cached one is used offline). */
  refresh?: boolean;
  signal?: AbortSignal;
  log?: Log;
}

let processDefaults: Pick<GuestOptions, 'idleSec' | 'memoryMb' | 'log'> = {};

/**
 * What guests this process boots get when a caller names no memory, idle time or log: the
 * extension sets them from its settings (ringbufStudio.vm.*) and its Output channel, so a run
 * that downloads or boots a guest on the way needs no extra options.
 */
export function setGuestDefaults(defaults: Pick<GuestOptions, 'idleSec' | 'memoryMb' | 'log'>): void {
  processDefaults = { ...defaults };
}

/** guests/<name>/guest.json */
export interface GuestRecord {
  name: string;
  pid: number;
  ready: boolean;
  kernel: { package: string; version: string; release: string };
  arch: HelperArch;
  pageSize: number;
  accel: 'kvm' | 'tcg';
  memoryMb: number;
  idleSec: number;
  ports: number;
  startedAt: number;
  bootMs?: number;
  /** sha256 of the helper in the initramfs (GUEST_HELPER_PATH). */
  helperSha256: string;
  /** sha256 of the guest's /sys/kernel/btf/vmlinux, once someone asked. */
  btfSha256?: string;
}

export type GuestState = 'not-downloaded' | 'cached' | 'booting' | 'running';

export interface GuestStatus {
  name: string;
  spec: string;
  state: GuestState;
  kernel?: { package: string; version: string; release: string };
  record?: GuestRecord;
  /** Resident memory of the QEMU process. */
  rssMb?: number;
}

const files = (k: CatalogueKernel): { dir: string; record: string; pid: string; console: string; initrd: string; port: (i: number) => string } => {
  const dir = vmPaths.guest(k.name);
  return {
    dir,
    record: path.join(dir, 'guest.json'),
    pid: path.join(dir, 'qemu.pid'),
    console: path.join(dir, 'console.log'),
    initrd: path.join(dir, 'initramfs.cpio'),
    port: (i) => path.join(dir, `port-${i}.sock`),
  };
};

function readRecord(k: CatalogueKernel): GuestRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(files(k).record, 'utf8')) as GuestRecord;
  } catch {
    return undefined; // never booted, or stopped
  }
}

/** Adds facts to the running guest's record — only if it is still the same boot (same QEMU pid). */
export function updateRecord(k: CatalogueKernel, pid: number, patch: Partial<GuestRecord>): void {
  const now = readRecord(k);
  if (now?.pid === pid) writeRecord(k, { ...now, ...patch });
}

function writeRecord(k: CatalogueKernel, r: GuestRecord): void {
  const f = files(k).record;
  fs.writeFileSync(`${f}.${process.pid}.tmp`, JSON.stringify(r, null, 2));
  fs.renameSync(`${f}.${process.pid}.tmp`, f);
}

/** The QEMU process of this guest is alive (the pid is checked against its command line, never trusted alone). */
function qemuAlive(k: CatalogueKernel, pid: number): boolean {
  try {
    // With the slash: guests/debian-6.12/ must not match guests/debian-6.12-arm64-16k/.
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${files(k).dir}/`);
  } catch {
    return false; // no such process
  }
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined; // gone since we looked
  }
}

export async function guestStatus(k: CatalogueKernel): Promise<GuestStatus> {
  const base = { name: k.name, spec: QEMU_PREFIX + k.name };
  const r = readRecord(k);
  const kernel = cachedKernel(k);
  const kernelFacts = kernel ? { kernel: { package: kernel.package, version: kernel.version, release: kernel.release } } : {};
  if (r && qemuAlive(k, r.pid)) {
    const rss = rssMb(r.pid);
    return { ...base, state: r.ready ? 'running' : 'booting', kernel: r.kernel, record: r, ...(rss !== undefined ? { rssMb: rss } : {}) };
  }
  if (await isLockHeld(vmRoot(), `boot-${k.name}`)) return { ...base, state: 'booting', ...kernelFacts };
  return { ...base, state: kernel && cachedUserland(k) ? 'cached' : 'not-downloaded', ...kernelFacts };
}

/** The running guest's record, booting it first when it is not running. */
export async function ensureGuest(k: CatalogueKernel, options: GuestOptions = {}): Promise<GuestRecord> {
  const opts: GuestOptions = { ...processDefaults, ...options };
  const running = readRecord(k);
  if (running?.ready && qemuAlive(k, running.pid)) return running;
  const lock = await acquireLock(vmRoot(), `boot-${k.name}`, {
    timeoutMs: (opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS) + 600_000, // a first boot may download first
    ...(opts.signal ? { signal: opts.signal } : {}),
    onWait: () => opts.log?.(`${k.name}: another process is starting this VM; waiting for it`),
  });
  try {
    const now = readRecord(k);
    if (now?.ready && qemuAlive(k, now.pid)) return now;
    await stopGuest(k); // a guest left half-booted by a process that died, or a QEMU whose record is gone
    return await bootGuest(k, opts);
  } finally {
    await lock.release();
  }
}

/** KVM only when /dev/kvm is usable and the guest has this machine's arch. */
function accelFor(k: CatalogueKernel): 'kvm' | 'tcg' {
  if (process.env.RINGBUF_STUDIO_VM_ACCEL === 'tcg' || k.arch !== hostHelperArch()) return 'tcg';
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return 'kvm';
  } catch {
    return 'tcg'; // no KVM here (containers, nested without it): software emulation
  }
}

/**
 * Kernel parameters: quiet serial console; no crypto self-tests at boot (1.5–2 s of a TCG boot);
 * no speculation mitigations (a throwaway guest that runs only our processes; they cost a lot
 * under emulation); expedited RCU and no timer checks for a faster boot.
 */
const BOOT_ARGS = ['console=ttyAMA0', 'quiet', 'panic=-1', 'cryptomgr.notests', 'mitigations=off', 'rcupdate.rcu_expedited=1'];
const X86_BOOT_ARGS = ['console=ttyS0', ...BOOT_ARGS.slice(1), 'no_timer_check', 'tsc=reliable'];

/** QEMU's option syntax doubles commas inside values. */
function q(value: string): string {
  return value.replace(/,/g, ',,');
}

function qemuCommand(k: CatalogueKernel, kernel: KernelFiles, accel: 'kvm' | 'tcg', opts: { memoryMb: number; idleSec: number; cpus: number }): { binary: string; args: string[] } {
  const f = files(k);
  const x86 = k.arch === 'x86_64';
  const binary = x86 ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  if (!findOnPath(binary)) {
    throw new StudioError(`${QEMU_PREFIX}${k.name} needs ${binary}, which is not installed`, { code: 'ENOQEMU', hint: `apt-get install ${x86 ? 'qemu-system-x86' : 'qemu-system-arm'}` });
  }
  const cpu = accel === 'kvm' ? 'host' : x86 ? 'qemu64,+rdrand' : 'max,pauth-impdef=on';
  const ports: string[] = [];
  for (let i = 0; i < GUEST_PORTS; i++) {
    ports.push('-chardev', `socket,id=p${i},path=${q(f.port(i))},server=on,wait=off`, '-device', `virtserialport,chardev=p${i},name=rbs.agent.${i}`);
  }
  const args = [
    '-name', `ringbuf-studio-${k.name}`,
    '-machine', x86 ? 'pc' : 'virt',
    '-accel', accel, '-cpu', cpu,
    '-m', String(opts.memoryMb), '-smp', String(opts.cpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', `file:${q(f.console)}`,
    '-kernel', kernel.image, '-initrd', f.initrd,
    '-append', [...(x86 ? X86_BOOT_ARGS : BOOT_ARGS), `rbs_idle=${opts.idleSec}`, `rbs_ports=${GUEST_PORTS}`].join(' '),
    '-device', 'virtio-serial-pci',
    ...ports,
    '-daemonize', '-pidfile', f.pid,
  ];
  return { binary, args };
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The helper and agent binaries for the guest's arch (the agent is built next to the helper). */
function guestBinaries(k: CatalogueKernel): { helper: string; agent: string } {
  const helper = findHelperBinary(k.arch);
  const agent = path.join(path.dirname(helper), `ringbuf-agent-${k.arch}`);
  if (!fs.existsSync(agent)) {
    throw new StudioError(`no ringbuf-agent for ${k.arch} next to ${helper}`, { code: 'ENOAGENT', hint: `build it: make -C helper${k.arch === 'x86_64' ? '' : ' aarch64'}` });
  }
  return { helper, agent };
}

/** The end of the guest's serial console (kernel messages, /init, the agent). */
export function guestConsole(k: CatalogueKernel, chars = 3000): string {
  try {
    return fs.readFileSync(files(k).console, 'utf8').slice(-chars);
  } catch {
    return '(no console output)';
  }
}

/** The idle power-off when none is asked for: $RINGBUF_STUDIO_VM_IDLE (seconds), else 10 minutes. */
function defaultIdleSec(): number {
  const env = Number(process.env.RINGBUF_STUDIO_VM_IDLE);
  return process.env.RINGBUF_STUDIO_VM_IDLE && Number.isInteger(env) && env >= 0 ? env : DEFAULT_IDLE_SEC;
}

async function bootGuest(k: CatalogueKernel, opts: GuestOptions): Promise<GuestRecord> {
  const memoryMb = opts.memoryMb ?? DEFAULT_MEMORY_MB;
  if (memoryMb > MAX_MEMORY_MB || memoryMb < 128) {
    throw new StudioError(`VM memory of ${memoryMb} MiB is out of range`, { code: 'EUSAGE', hint: `use 128 to ${MAX_MEMORY_MB} MiB` });
  }
  const kernel = await ensureKernel(k, opts);
  const userland = await ensureUserland(k, opts);
  const { helper, agent } = guestBinaries(k);
  const f = files(k);
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  if (Buffer.byteLength(f.port(GUEST_PORTS - 1)) > 100) {
    throw new StudioError(`the VM's socket path ${f.port(GUEST_PORTS - 1)} is too long for a Unix socket`, { code: 'EVMPATH', hint: 'point RINGBUF_STUDIO_CACHE (or XDG_CACHE_HOME) at a shorter directory' });
  }
  for (const old of [f.pid, f.console, f.record, ...Array.from({ length: GUEST_PORTS }, (_, i) => f.port(i))]) fs.rmSync(old, { force: true });
  writeInitramfs(f.initrd, { kernel, userland, helper, agent, hostname: k.name });
  const accel = accelFor(k);
  const idleSec = opts.idleSec ?? defaultIdleSec();
  const { binary, args } = qemuCommand(k, kernel, accel, { memoryMb, idleSec, cpus: opts.cpus ?? 1 });
  opts.log?.(`${k.name}: booting ${kernel.package} (${accel === 'kvm' ? 'KVM' : 'TCG, software emulation'}, ${memoryMb} MiB)`);
  const started = Date.now();
  await daemonize(binary, args);
  const pid = Number(fs.readFileSync(f.pid, 'utf8').trim());
  const record: GuestRecord = {
    name: k.name,
    pid,
    ready: false,
    kernel: { package: kernel.package, version: kernel.version, release: kernel.release },
    arch: k.arch,
    pageSize: k.pageSize,
    accel,
    memoryMb,
    idleSec,
    ports: GUEST_PORTS,
    startedAt: started,
    helperSha256: sha256(helper),
  };
  writeRecord(k, record);
  try {
    const link = await helloWhileAlive(k, pid, opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS, opts.signal);
    await link.close();
  } catch (err) {
    await stopGuest(k);
    throw err;
  }
  const ready = { ...record, ready: true, bootMs: Date.now() - started };
  writeRecord(k, ready);
  opts.log?.(`${k.name}: up in ${(ready.bootMs ?? 0) / 1000} s`);
  return ready;
}

/** Starts QEMU with -daemonize: its first process exits once the VM is set up (or failed to be). */
function daemonize(binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => reject(new StudioError(`cannot start ${binary}: ${e.message}`, { code: 'ENOQEMU' })));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new StudioError(`${binary} failed to start (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`, { code: 'EVMBOOT', detail: `${binary} ${args.join(' ')}\n${err}` }));
    });
  });
}

/** Waits for the agent's HELLO on a free port, failing early (with the console) if QEMU dies. */
async function helloWhileAlive(k: CatalogueKernel, pid: number, timeoutMs: number, signal?: AbortSignal): Promise<AgentLink> {
  const port = await claimPort(k, GUEST_PORTS, 5000);
  const watch = new AbortController();
  const died = new Promise<never>((_, reject) => {
    const timer = setInterval(() => {
      if (qemuAlive(k, pid)) return;
      clearInterval(timer);
      reject(new StudioError(`${QEMU_PREFIX}${k.name}: QEMU exited while the guest booted`, { code: 'EVMBOOT', detail: guestConsole(k) }));
    }, 250);
    watch.signal.addEventListener('abort', () => clearInterval(timer));
  });
  died.catch(() => undefined);
  try {
    return await Promise.race([
      AgentLink.open(files(k).port(port.index), { name: QEMU_PREFIX + k.name, helloTimeoutMs: timeoutMs, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
        throw new StudioError(`${QEMU_PREFIX}${k.name} did not come up: ${messageOf(err)}`, { code: 'EVMBOOT', detail: guestConsole(k), hint: `the guest console is in ${files(k).console}` });
      }),
      died,
    ]);
  } finally {
    watch.abort();
    await port.lock.release();
  }
}

/** QEMU processes of this guest, found by its state dir on their command line (also one whose record is gone). */
function guestQemuPids(k: CatalogueKernel): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => qemuAlive(k, pid));
}

/** Stops the guest (QEMU gets SIGTERM, then SIGKILL). True when it was running. */
export async function stopGuest(k: CatalogueKernel): Promise<boolean> {
  const f = files(k);
  const pids = guestQemuPids(k);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (pids.some((pid) => qemuAlive(k, pid)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  for (const pid of pids) if (qemuAlive(k, pid)) process.kill(pid, 'SIGKILL');
  for (const old of [f.pid, f.record, ...Array.from({ length: GUEST_PORTS }, (_, i) => f.port(i))]) fs.rmSync(old, { force: true });
  return pids.length > 0;
}

export interface GuestLink {
  link: AgentLink;
  record: GuestRecord;
}

/** A free port of the guest: its lock and index (each host process talks over a port of its own). */
async function claimPort(k: CatalogueKernel, ports: number, waitMs: number): Promise<{ lock: HeldLock; index: number }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (let i = 0; i < ports; i++) {
      const lock = await tryLock(vmRoot(), `port-${k.name}-${i}`);
      if (lock) return { lock, index: i };
    }
    if (Date.now() > deadline) {
      throw new StudioError(`all ${ports} ports of ${QEMU_PREFIX}${k.name} are in use by other Ringbuf Studio processes`, { code: 'EVMBUSY', hint: 'close some of them (each CLI run or open editor connection holds one)' });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Boots the guest if needed, claims a free port and opens the agent link on it. */
export async function openGuestLink(k: CatalogueKernel, opts: GuestOptions = {}): Promise<GuestLink> {
  const record = await ensureGuest(k, opts);
  const held = await claimPort(k, record.ports, 30_000);
  try {
    const link = await AgentLink.open(files(k).port(held.index), {
      name: QEMU_PREFIX + k.name,
      helloTimeoutMs: 20_000,
      onClosed: () => void held.lock.release(),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { link, record };
  } catch (err) {
    await held.lock.release();
    throw err;
  }
}
