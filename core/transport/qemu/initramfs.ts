// The guest's whole root file system, built locally for each boot (uncompressed: TCG
// decompresses slowly): the userland (busybox, bash), our static helper and agent for the
// guest's arch, the transport's kernel modules and an /init that mounts what BPF needs and
// hands over to the agent as PID 1. Nothing else runs in the guest.
import path from 'node:path';
import fs from 'node:fs';
import type { KernelFiles } from './kernel';
import type { Userland } from './userland';
import { buildCpio, treeEntries, type CpioEntry } from './cpio';

/** Where the helper sits in the guest (read-only for everything but root). */
export const GUEST_HELPER_PATH = '/usr/lib/ringbuf-studio/ringbuf-helper';
export const GUEST_AGENT_PATH = '/usr/sbin/ringbuf-agent';
const GUEST_MODULE_DIR = '/usr/lib/ringbuf-studio/modules';

export interface InitramfsInputs {
  kernel: KernelFiles;
  userland: Userland;
  helper: string;
  agent: string;
  hostname: string;
}

/** /init: kernel parameters `rbs_idle=` and `rbs_ports=` reach it as environment variables. */
function initScript(modules: readonly string[], hostname: string): string {
  return [
    '#!/usr/bin/busybox sh',
    '/usr/bin/busybox --install -s',
    'export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev', // Debian's kernels do not mount it by themselves
    'mkdir -p /dev/pts && mount -t devpts devpts /dev/pts',
    'mount -t tracefs tracefs /sys/kernel/tracing',
    'mount -t debugfs debugfs /sys/kernel/debug',
    'mount -t bpf bpf /sys/fs/bpf',
    'mount -t tmpfs tmpfs /tmp',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    ...modules.map((m) => `insmod ${GUEST_MODULE_DIR}/${path.basename(m)} || echo "rbs: insmod ${path.basename(m)} failed"`),
    'ulimit -l unlimited', // kernels before 5.11 charge ring buffers to RLIMIT_MEMLOCK
    `hostname ${hostname}`,
    'echo "rbs: /init done $(cut -d" " -f1 /proc/uptime) s after kernel start"',
    `exec ${GUEST_AGENT_PATH} --ports "\${rbs_ports:-1}" --idle "\${rbs_idle:-0}"`,
    '',
  ].join('\n');
}

function fileEntry(at: string, source: string, mode: number): CpioEntry {
  return { path: at, type: 'file', mode, data: fs.readFileSync(source) };
}

export function initramfsEntries(inp: InitramfsInputs): CpioEntry[] {
  const dirs = ['proc', 'sys', 'dev', 'tmp', 'run', 'etc', 'root', 'usr', 'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib/ringbuf-studio', GUEST_MODULE_DIR.slice(1)];
  const entries: CpioEntry[] = dirs.map((d) => ({ path: d, type: 'dir', mode: d === 'root' ? 0o700 : d === 'tmp' ? 0o1777 : 0o755 }));
  // The userland tree carries usr/…; skip the dirs already made above.
  const made = new Set(dirs);
  entries.push(...treeEntries(inp.userland.root, '').filter((e) => !(e.type === 'dir' && made.has(e.path.replace(/^\/+/, '')))));
  for (const d of ['bin', 'sbin', 'lib']) entries.push({ path: d, type: 'symlink', target: `usr/${d}` });
  if (fs.existsSync(path.join(inp.userland.root, 'usr/lib64'))) entries.push({ path: 'lib64', type: 'symlink', target: 'usr/lib64' });
  entries.push(
    fileEntry(GUEST_AGENT_PATH, inp.agent, 0o755),
    fileEntry(GUEST_HELPER_PATH, inp.helper, 0o755),
    ...inp.kernel.modules.map((m) => fileEntry(`${GUEST_MODULE_DIR}/${path.basename(m)}`, m, 0o644)),
    { path: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
    { path: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\ntty:x:5:\n') },
    { path: 'init', type: 'file', mode: 0o755, data: Buffer.from(initScript(inp.kernel.modules, inp.hostname)) },
  );
  return entries;
}

/** Writes the archive to `file` (via a temporary name). */
export function writeInitramfs(file: string, inp: InitramfsInputs): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buildCpio(initramfsEntries(inp)));
  fs.renameSync(tmp, file);
}
