// A second kernel for the integration tests: Debian's linux-image (the one
// `linux-image-amd64` depends on) booted in QEMU with software emulation (TCG, no KVM),
// reachable as an SSH target through a forwarded port on 127.0.0.1.
//
// Kernel: the .deb is fetched with `apt-get download` and extracted without installing
// (only /boot/vmlinuz and the NIC module with its dependencies); the ELF vmlinux inside
// the bzImage is unpacked so QEMU boots it through the PVH entry (faster than the bzImage).
// Cached under .cache/qemu/<package>_<version>/.
//
// Root file system: an initramfs built per boot from this machine's own binaries:
// busybox (static) for the shell and tools, Debian's /usr/sbin/sshd with the shared
// libraries `ldd` names, a fresh host key and a throwaway client key. Recipe:
// /work/shared/env-recipes.md "Second kernel (QEMU…)"; see docs/testing-qemu.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findOnPath } from '../../core/util/which';
import { freePort, makeKey } from './sshd';

const repoRoot = path.resolve(__dirname, '../..');
export const qemuCacheDir = path.join(repoRoot, '.cache/qemu');
/** Where scripts/setup.sh (test profile) leaves the downloaded kernel package. */
export const qemuDebDir = path.join(qemuCacheDir, 'debs');

/**
 * The guest's NIC. Debian builds every NIC driver as a module, so /init loads it (with its
 * dependencies, resolved from each module's depends=). RBS_QEMU_NIC=e1000 picks the
 * dependency-free e1000, whose link comes up ~2 s later than virtio's.
 */
const NICS: Record<string, { device: string; modules: string[] }> = {
  virtio: { device: 'virtio-net-pci', modules: ['virtio_pci', 'virtio_net'] },
  e1000: { device: 'e1000', modules: ['e1000'] },
};
function guestNic(): { device: string; modules: string[] } {
  const name = process.env.RBS_QEMU_NIC ?? 'virtio';
  const nic = NICS[name];
  if (!nic) throw new Error(`RBS_QEMU_NIC=${name} is not known (use ${Object.keys(NICS).join(' or ')})`);
  return nic;
}

export interface GuestKernel {
  /** Debian package, e.g. linux-image-6.1.0-56-amd64. */
  pkg: string;
  version: string;
  /** `uname -r` inside the guest, e.g. 6.1.0-56-amd64. */
  release: string;
  /** Uncompressed ELF kernel (PVH boot). */
  vmlinux: string;
  /** Modules to insmod, dependencies first. */
  modules: string[];
  /** The NIC modules asked for (the cache is rebuilt when they change). */
  nicModules: string[];
}

/** Tools the host needs to build and boot the guest; the first missing one, or null. */
export function missingQemuTool(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  const need: Array<[string, string]> = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['cpio', 'cpio'],
    ['dpkg-deb', 'dpkg'],
    ['xz', 'xz-utils'],
    ['ssh-keygen', 'openssh-client'],
  ];
  for (const [cmd, pkg] of need) if (!findOnPath(cmd)) return `${cmd} not installed (apt-get install ${pkg})`;
  if (!fs.existsSync('/bin/busybox')) return '/bin/busybox not installed (apt-get install busybox-static)';
  if (!fs.existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd not installed (apt-get install openssh-server)';
  if (!downloadedKernel() && !cachedKernels().length && !kernelPackage()) {
    return 'no Debian kernel package known (apt-cache depends linux-image-amd64 names none; run apt-get update or scripts/setup.sh test)';
  }
  return null;
}

/** The linux-image-<abi>-amd64 package and version `linux-image-amd64` depends on (from the apt lists). */
export function kernelPackage(): { pkg: string; version: string } | undefined {
  const deps = spawnSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  const pkg = /Depends: (linux-image-[0-9][\w.+-]*)/.exec(deps.stdout ?? '')?.[1];
  if (!pkg) return undefined;
  const show = spawnSync('apt-cache', ['show', '--no-all-versions', pkg], { encoding: 'utf8' });
  const version = /^Version: (\S+)/m.exec(show.stdout ?? '')?.[1];
  return version ? { pkg, version } : undefined;
}

function cachedKernels(): string[] {
  if (!fs.existsSync(qemuCacheDir)) return [];
  return fs
    .readdirSync(qemuCacheDir)
    .filter((d) => d.startsWith('linux-image-') && fs.existsSync(path.join(qemuCacheDir, d, 'kernel.json')))
    .sort();
}

function keyOf(pkg: string, version: string): string {
  return `${pkg}_${version.replace(/[^\w.+-]/g, '_')}`;
}

/** The package file in .cache/qemu/debs, downloading it with apt-get when it is not there. */
function kernelDeb(pkg: string, version: string): string {
  fs.mkdirSync(qemuDebDir, { recursive: true });
  const fileVersion = version.replace(/:/g, '%3a');
  const find = (): string | undefined => fs.readdirSync(qemuDebDir).find((f) => f.startsWith(`${pkg}_${fileVersion}_`) && f.endsWith('.deb'));
  const have = find();
  if (have) return path.join(qemuDebDir, have);
  const dl = spawnSync('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: qemuDebDir, encoding: 'utf8' });
  const got = find();
  if (!got) throw new Error(`apt-get download ${pkg}=${version} failed (exit ${dl.status}): ${(dl.stderr ?? '').trim()}`);
  return path.join(qemuDebDir, got);
}

/** Extracts the given members of an (uncompressed) tar file into dir. */
function extractFromTar(tarFile: string, dir: string, members: string[]): void {
  const tar = spawnSync('tar', ['-x', '-f', tarFile, '-C', dir, ...members], { maxBuffer: 1 << 20 });
  if (tar.status !== 0) throw new Error(`tar -x ${members.join(' ')} from ${tarFile} failed: ${tar.stderr.toString().trim()}`);
}

/** The ELF vmlinux inside a bzImage: the xz stream after its magic (trailing data makes xz exit non-zero). */
function unpackVmlinux(bzImage: string, out: string): void {
  const image = fs.readFileSync(bzImage);
  const at = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) throw new Error(`${bzImage}: no xz payload (kernel not xz-compressed?)`);
  const xz = spawnSync('xz', ['-dc'], { input: image.subarray(at), maxBuffer: 1 << 30 });
  const elf = xz.stdout;
  if (!elf || elf.length < 1 << 20 || elf.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error(`${bzImage}: the xz payload is not an ELF kernel (${xz.stderr.toString().trim()})`);
  }
  fs.writeFileSync(out, elf);
}

/** `depends=` from a module's .modinfo (the package ships no modules.dep: depmod runs at install). */
function moduleDepends(ko: string): string[] {
  const text = fs.readFileSync(ko).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(',').filter(Boolean) : [];
}

/** The newest kernel package already in .cache/qemu/debs (scripts/setup.sh test puts it there). */
function downloadedKernel(): { pkg: string; version: string; deb: string } | undefined {
  if (!fs.existsSync(qemuDebDir)) return undefined;
  const debs = fs
    .readdirSync(qemuDebDir)
    .map((f) => /^(linux-image-[\w.+-]+?)_([^_]+)_amd64\.deb$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pkg: m[1] ?? '', version: decodeURIComponent(m[2] ?? ''), deb: path.join(qemuDebDir, m[0]) }))
    .sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
  return debs[debs.length - 1];
}

/**
 * The guest kernel, from the cache or built: download (once), extract vmlinuz and the NIC
 * module with its dependencies, unpack vmlinux. Keyed by package and version. `apt-cache`
 * is asked only when no package was downloaded yet (it takes seconds on this machine).
 */
export function prepareGuestKernel(log: (msg: string) => void = () => undefined): GuestKernel {
  const cached = cachedKernels();
  const wanted = downloadedKernel() ?? (cached.length ? undefined : kernelPackage());
  const key = wanted ? keyOf(wanted.pkg, wanted.version) : cached[cached.length - 1];
  if (!key) throw new Error('no Debian kernel package known: run apt-get update (or scripts/setup.sh test)');
  const dir = path.join(qemuCacheDir, key);
  const meta = path.join(dir, 'kernel.json');
  if (fs.existsSync(meta)) {
    const have = JSON.parse(fs.readFileSync(meta, 'utf8')) as GuestKernel;
    if (have.nicModules?.join(',') === guestNic().modules.join(',')) return have;
  }
  if (!wanted) throw new Error(`the cached kernel ${key} lacks the modules for this NIC and no package is downloaded: run scripts/setup.sh test`);

  const started = Date.now();
  const deb = kernelDeb(wanted.pkg, wanted.version);
  const tmp = fs.mkdtempSync(path.join(qemuCacheDir, `.build-${key}-`));
  try {
    // Decompress the package's data once; listing and extracting then read the plain tar.
    const tarFile = path.join(tmp, 'data.tar');
    const data = spawnSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1 << 30 });
    if (data.status !== 0) throw new Error(`dpkg-deb --fsys-tarfile ${deb} failed: ${data.stderr.toString().trim()}`);
    fs.writeFileSync(tarFile, data.stdout);
    const members = spawnSync('tar', ['-t', '-f', tarFile], { maxBuffer: 64 << 20, encoding: 'utf8' }).stdout.split('\n');
    const vmlinuz = members.find((m) => /^\.\/boot\/vmlinuz-/.test(m));
    if (!vmlinuz) throw new Error(`${deb} has no /boot/vmlinuz-*`);
    const release = vmlinuz.replace('./boot/vmlinuz-', '');
    const moduleMember = (name: string): string => {
      const re = new RegExp(`/${name.replace(/[-_]/g, '[-_]')}\\.ko(\\.xz|\\.zst|\\.gz)?$`);
      const m = members.find((x) => x.startsWith(`./lib/modules/${release}/`) && re.test(x));
      if (!m) throw new Error(`${deb} has no module ${name}`);
      if (!m.endsWith('.ko')) throw new Error(`${deb}: module ${m} is compressed; busybox insmod needs plain .ko files`);
      return m;
    };
    // Resolve the NIC module's dependencies (depth first, dependencies before dependents).
    const order: string[] = [];
    const visit = (name: string): void => {
      const member = moduleMember(name);
      if (order.includes(member)) return;
      extractFromTar(tarFile, tmp, [member]);
      for (const dep of moduleDepends(path.join(tmp, member))) visit(dep);
      order.push(member);
    };
    for (const m of guestNic().modules) visit(m);
    extractFromTar(tarFile, tmp, [vmlinuz]);

    fs.mkdirSync(path.join(tmp, 'out'));
    unpackVmlinux(path.join(tmp, vmlinuz), path.join(tmp, 'out/vmlinux'));
    for (const m of order) fs.copyFileSync(path.join(tmp, m), path.join(tmp, 'out', path.basename(m)));
    const kernel: GuestKernel = {
      pkg: wanted.pkg,
      version: wanted.version,
      release,
      vmlinux: path.join(dir, 'vmlinux'),
      modules: order.map((m) => path.join(dir, path.basename(m))),
      nicModules: guestNic().modules,
    };
    fs.writeFileSync(path.join(tmp, 'out/kernel.json'), JSON.stringify(kernel, null, 2));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(path.join(tmp, 'out'), dir); // atomic: a half-built kernel is never cached
    log(`guest kernel ${wanted.pkg} ${wanted.version} prepared in ${Date.now() - started} ms`);
    return kernel;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Copies a binary and every shared library `ldd` names (with the loader) into root. */
function copyWithLibraries(binary: string, root: string): void {
  const dest = path.join(root, binary);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(binary, dest);
  fs.chmodSync(dest, 0o755);
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (ldd.status !== 0) return; // static: "not a dynamic executable"
  for (const m of ldd.stdout.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)) {
    const lib = m[1];
    if (!lib) continue;
    const to = path.join(root, lib);
    if (fs.existsSync(to)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(lib, to); // follows symlinks: the real file under the soname
  }
}

const SSHD_CONFIG = [
  'Port 22',
  'HostKey /etc/ssh/ssh_host_ed25519_key',
  'AuthorizedKeysFile /root/.ssh/authorized_keys',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'UsePAM no',
  'PermitRootLogin prohibit-password',
  'UseDNS no',
  'Subsystem sftp internal-sftp',
  '',
].join('\n');

const SSHD_HELPERS = ['/usr/lib/openssh/sshd-session', '/usr/lib/openssh/sshd-auth'];

function initScript(modules: string[], noReexec: boolean): string {
  return [
    '#!/bin/sh',
    'export PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev', // Debian's kernel does not mount it by itself
    'mount -t tracefs tracefs /sys/kernel/tracing',
    'mount -t debugfs debugfs /sys/kernel/debug',
    'mount -t bpf bpf /sys/fs/bpf',
    'mount -t tmpfs tmpfs /tmp',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/sshd /dev/pts && mount -t devpts devpts /dev/pts',
    ...modules.map((m) => `insmod /lib/modules/${path.basename(m)} || echo "RBS: insmod ${path.basename(m)} failed"`),
    'ip link set lo up',
    'ip link set eth0 up',
    'ip addr add 10.0.2.15/24 dev eth0',
    'ip route add default via 10.0.2.2',
    'echo "RBS: network up: $(uname -r), $(cut -d" " -f1 /proc/uptime) s after kernel start"',
    // In the foreground and nothing else running: the only execs and sleeps in the guest are
    // the tests' own. If sshd dies, the guest powers off (QEMU exits and the test says so).
    // -r: no re-exec per connection (each one would load sshd's ~28 libraries again under TCG);
    // OpenSSH with a separate sshd-session has no such option.
    `/usr/sbin/sshd -D -e${noReexec ? ' -r' : ''}`,
    'echo "RBS: sshd exited ($?)"',
    'poweroff -f',
    '',
  ].join('\n');
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** The guest's root file system as a newc cpio (uncompressed: TCG decompresses slowly). */
function buildInitramfs(kernel: GuestKernel, dir: string, keys: { hostKey: string; clientPub: string }): string {
  const root = path.join(dir, 'rootfs');
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/ssh', 'proc', 'sys', 'dev', 'tmp', 'run', 'root/.ssh', 'lib/modules', 'var/empty']) {
    fs.mkdirSync(path.join(root, d), { recursive: true });
  }
  // No dev/console here: the kernel's built-in initramfs already has the device node, and
  // a regular file of that name would swallow /init's output.
  copyWithLibraries('/bin/busybox', root);
  copyWithLibraries('/usr/sbin/sshd', root);
  // OpenSSH ≥ 9.8 (Debian 13) execs these per connection.
  const splitSshd = SSHD_HELPERS.filter((f) => fs.existsSync(f));
  for (const f of splitSshd) copyWithLibraries(f, root);
  // bash: the uprobe-readline template probes its readline().
  if (fs.existsSync('/bin/bash')) copyWithLibraries('/bin/bash', root);
  // Applets last, so a real binary copied above is never replaced by (or written through) a link.
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    const link = path.join(root, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  for (const m of kernel.modules) fs.copyFileSync(m, path.join(root, 'lib/modules', path.basename(m)));

  // sshd's privilege separation needs its user and /run/sshd; root logs in with busybox sh.
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n', { mode: 0o600 });
  fs.writeFileSync(path.join(root, 'etc/ssh/sshd_config'), SSHD_CONFIG);
  fs.copyFileSync(keys.hostKey, path.join(root, 'etc/ssh/ssh_host_ed25519_key'));
  fs.chmodSync(path.join(root, 'etc/ssh/ssh_host_ed25519_key'), 0o600);
  fs.copyFileSync(keys.clientPub, path.join(root, 'root/.ssh/authorized_keys'));
  fs.chmodSync(path.join(root, 'root'), 0o700);
  fs.chmodSync(path.join(root, 'root/.ssh'), 0o700);
  fs.chmodSync(path.join(root, 'root/.ssh/authorized_keys'), 0o600);
  fs.writeFileSync(path.join(root, 'init'), initScript(kernel.modules, splitSshd.length === 0), { mode: 0o755 });

  const archive = path.join(dir, 'initramfs.cpio');
  const cpio = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet', '-R', '0:0', '-O', archive], { cwd: root, input: listTree(root).join('\n') + '\n' });
  if (cpio.status !== 0) throw new Error(`cpio failed: ${cpio.stderr.toString().trim()}`);
  fs.rmSync(root, { recursive: true, force: true });
  return archive;
}

export interface QemuGuest {
  kernel: GuestKernel;
  /** Host port forwarded to the guest's sshd. */
  port: number;
  /** ssh_config alias for the guest (defined in sshConfig). */
  alias: string;
  sshConfig: string;
  knownHosts: string;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  clientKey: string;
  /** Milliseconds from spawning QEMU to the guest's SSH banner. */
  bootMs: number;
  /** Serial console output so far (kernel messages, /init, sshd -e). */
  console(): string;
  stop(): Promise<void>;
}

export interface BootOptions {
  memoryMb?: number;
  /** Hard upper bound on QEMU's life, even if this process dies without stop(). */
  maxLifetimeSec?: number;
  bootTimeoutMs?: number;
  log?: (msg: string) => void;
}

function bannerOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(3000, () => done(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.startsWith('SSH-')) done(true);
    });
    // slirp accepts the connection before the guest listens, then closes it.
    sock.on('close', () => done(false));
    sock.on('error', () => done(false));
  });
}

/** Boots the guest and waits until its sshd answers on a forwarded port. */
export async function bootGuest(opts: BootOptions = {}): Promise<QemuGuest> {
  const log = opts.log ?? (() => undefined);
  const kernel = prepareGuestKernel(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-qemu-'));
  const hostKey = makeKey(dir, 'host_key');
  const clientKey = makeKey(dir, 'client_key');
  const initrd = buildInitramfs(kernel, dir, { hostKey, clientPub: `${clientKey}.pub` });
  const port = await freePort();

  const qemuArgs = [
    '-accel', 'tcg',
    '-m', String(opts.memoryMb ?? 1024),
    // RDRAND seeds the guest's RNG at once; without it sshd waits ~1.5 s for crng init.
    // (-cpu max has it too but makes the kernel pick paths that TCG runs slower.)
    '-cpu', 'qemu64,+rdrand',
    '-smp', '1',
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', kernel.vmlinux,
    '-initrd', initrd,
    '-append', 'console=ttyS0 quiet panic=-1',
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-device', `${guestNic().device},netdev=n0,romfile=`,
  ];
  // `timeout` bounds QEMU's life even when this process is SIGKILLed (no exit handler runs then).
  const started = Date.now();
  const child: ChildProcess = spawn('timeout', ['-s', 'KILL', String(opts.maxLifetimeSec ?? 600), 'qemu-system-x86_64', ...qemuArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let consoleText = '';
  const append = (d: Buffer): void => {
    consoleText = (consoleText + d.toString('utf8')).slice(-256 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const killNow = (): void => {
    if (gone) return;
    killQemuChildren(child.pid); // first, while QEMU is still timeout's child
    child.kill('SIGKILL');
  };
  const onExit = (): void => {
    killNow();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    if (!gone) {
      child.kill('SIGTERM'); // timeout passes SIGTERM on to QEMU, which exits at once
      const timer = setTimeout(killNow, 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.bootTimeoutMs ?? 90_000);
  try {
    for (;;) {
      if (gone) throw new Error(`QEMU exited while booting:\n${consoleText.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`the guest's sshd did not answer within ${(opts.bootTimeoutMs ?? 90_000) / 1000} s; console:\n${consoleText.slice(-4000)}`);
      if (/RBS: network up/.test(consoleText) && (await bannerOnce(port))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const bootMs = Date.now() - started;
  log(`guest ${kernel.release} answers on 127.0.0.1:${port} after ${bootMs} ms`);

  const alias = 'qemu-debian';
  const hostKeyPub = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const knownHostsLine = `[127.0.0.1]:${port} ${hostKeyPub}`;
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `${knownHostsLine}\n`);
  const sshConfig = path.join(dir, 'ssh_config');
  fs.writeFileSync(sshConfig, `Host ${alias}\n  HostName 127.0.0.1\n  Port ${port}\n  User root\n  IdentityFile ${clientKey}\n  IdentitiesOnly yes\n`);
  return { kernel, port, alias, sshConfig, knownHosts, knownHostsLine, clientKey, bootMs, console: () => consoleText, stop };
}

/** QEMU runs as the child of `timeout`; SIGKILL to `timeout` would orphan it. */
function killQemuChildren(timeoutPid: number | undefined): void {
  if (timeoutPid === undefined) return;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === timeoutPid) process.kill(Number(entry), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
