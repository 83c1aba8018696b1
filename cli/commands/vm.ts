// `ringbuf-studio vm list|start|stop|status|download`: the built-in VM kernels (qemu:<name>
// targets). Any run on a qemu: target starts its guest by itself; these manage them directly.
import { CliUsageError, defineCommand, type CliIo } from '../command';
import { ExitStatus } from '../exitStatus';
import { oneOf, option, type OptionValues } from '../options';
import {
  CATALOGUE,
  DEFAULT_IDLE_SEC,
  DEFAULT_MEMORY_MB,
  QEMU_PREFIX,
  catalogueKernel,
  ensureGuest,
  ensureKernel,
  ensureUserland,
  guestConsole,
  guestStatus,
  stopGuest,
  type CatalogueKernel,
  type GuestOptions,
  type GuestStatus,
} from '../../core/transport/qemu/index';
import { describeError } from '../../core/util/errors';

const SUBCOMMANDS = ['list', 'start', 'stop', 'status', 'download'] as const;

const description = `Built-in VM targets: Debian kernels booted in QEMU (KVM when /dev/kvm is usable, software
emulation otherwise), usable wherever a target is: run --target qemu:debian-6.1. A guest
starts on first use, stays up between runs and powers off when idle. NAME is qemu:<name>
or <name>, e.g. debian-5.10 (see vm list).

commands:
  list       every built-in kernel: not downloaded, cached, booting or running
  start      download (first time) and boot; waits until the guest answers
  stop       power off the named guests (default: every running one)
  status     what runs: kernel, boot time, memory, idle power-off
  download   fetch and unpack kernels without booting (default: all)`;

function memoryArg(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 128 || n > 512) throw new CliUsageError(`${flag} ${raw}: expected MiB from 128 to 512`);
  return n;
}

const options = {
  memoryMb: option.value('--memory', 'MiB', `guest memory (default ${DEFAULT_MEMORY_MB}, at most 512)`, { parse: memoryArg }),
  idleSec: option.value('--idle', 'DURATION', `power off after this long unused: 90s, 10m, 1h, 0 = never (default ${DEFAULT_IDLE_SEC / 60}m)`, { parse: (raw) => parseIdle(raw) }),
  refresh: option.switch('--refresh', "look for a newer kernel in Debian's index first"),
  all: option.switch('--all', 'every built-in kernel'),
  console: option.switch('--console', "status: also print the end of the guest's console"),
  format: option.choice('--format', ['json', 'text'] as const, 'text', 'json: machine-readable'),
};

type VmArgs = OptionValues<typeof options> & { sub: (typeof SUBCOMMANDS)[number]; names: string[] };

/** 90s, 10m, 1h, 300 (seconds), 0 = never. */
export function parseIdle(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(raw.trim());
  if (!m) throw new CliUsageError(`--idle ${raw}: expected a duration such as 90s, 10m or 1h (0 = never)`);
  return Math.round(Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1));
}

function kernelsOf(args: VmArgs, fallback: 'all' | 'none'): CatalogueKernel[] {
  if (args.all || (!args.names.length && fallback === 'all')) return [...CATALOGUE];
  try {
    return args.names.map((n) => catalogueKernel(n));
  } catch (err) {
    throw new CliUsageError(describeError(err));
  }
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function statusLine(s: GuestStatus): string {
  const k = catalogueKernel(s.name);
  const kernel = s.kernel ? `${s.kernel.release}` : `${k.metaPackage} from ${k.suite}`;
  const head = `${s.spec.padEnd(30)} ${s.state.padEnd(14)} ${k.arch.padEnd(8)} ${String(k.pageSize / 1024).padStart(2)} KiB pages  ${kernel}`;
  const r = s.record;
  if (s.state !== 'running' || !r) return head;
  const idle = r.idleSec ? `powers off after ${ago(r.idleSec * 1000)} idle` : 'no idle power-off';
  return `${head}\n${''.padEnd(31)}up ${ago(Date.now() - r.startedAt)} (booted in ${((r.bootMs ?? 0) / 1000).toFixed(1)} s), ${r.accel.toUpperCase()}, ${r.memoryMb} MiB${s.rssMb ? ` (${s.rssMb} MiB resident)` : ''}, ${idle}, pid ${r.pid}`;
}

function guestOptions(args: VmArgs, io: CliIo): GuestOptions {
  return {
    signal: io.signal,
    refresh: args.refresh,
    log: (m) => io.stderr(`ringbuf-studio: ${m}\n`),
    ...(args.memoryMb !== undefined ? { memoryMb: args.memoryMb } : {}),
    ...(args.idleSec !== undefined ? { idleSec: args.idleSec } : {}),
  };
}

async function eachKernel(kernels: CatalogueKernel[], io: CliIo, fn: (k: CatalogueKernel) => Promise<void>): Promise<ExitStatus> {
  let failed = 0;
  // One at a time: booting several TCG guests at once only makes each slower.
  for (const k of kernels) {
    try {
      await fn(k);
    } catch (err) {
      failed++;
      io.stderr(`ringbuf-studio vm: ${QEMU_PREFIX}${k.name}: ${describeError(err)}\n`);
    }
  }
  return failed ? ExitStatus.failure : ExitStatus.ok;
}

async function run(args: VmArgs, io: CliIo): Promise<ExitStatus> {
  switch (args.sub) {
    case 'list':
    case 'status': {
      const kernels = kernelsOf(args, 'all');
      const all = await Promise.all(kernels.map((k) => guestStatus(k)));
      const shown = args.sub === 'status' && !args.names.length && !args.all ? all.filter((s) => s.state === 'running' || s.state === 'booting') : all;
      if (args.format === 'json') io.stdout(JSON.stringify(shown, null, 2) + '\n');
      else if (!shown.length) io.stdout('no VM is running (ringbuf-studio vm list shows them all)\n');
      else io.stdout(shown.map(statusLine).join('\n') + '\n');
      if (args.console) for (const s of shown) if (s.record) io.stdout(`\n--- ${s.spec} console ---\n${consoleOf(s)}\n`);
      return ExitStatus.ok;
    }
    case 'start': {
      if (!args.names.length && !args.all) throw new CliUsageError('vm start needs a NAME (see ringbuf-studio vm list) or --all');
      return eachKernel(kernelsOf(args, 'none'), io, async (k) => {
        await ensureGuest(k, guestOptions(args, io));
        io.stdout(statusLine(await guestStatus(k)) + '\n');
      });
    }
    case 'stop': {
      const kernels = kernelsOf(args, 'all');
      return eachKernel(kernels, io, async (k) => {
        if (await stopGuest(k)) io.stdout(`${QEMU_PREFIX}${k.name} stopped\n`);
        else if (args.names.length) io.stdout(`${QEMU_PREFIX}${k.name} was not running\n`);
      });
    }
    default:
      return eachKernel(kernelsOf(args, 'all'), io, async (k) => {
        const kernel = await ensureKernel(k, guestOptions(args, io));
        await ensureUserland(k, guestOptions(args, io));
        io.stdout(`${QEMU_PREFIX}${k.name}: ${kernel.package} ${kernel.version} cached\n`);
      });
  }
}

function consoleOf(s: GuestStatus): string {
  return guestConsole(catalogueKernel(s.name));
}

export const vmCommand = defineCommand({
  name: 'vm',
  summary: 'list, start, stop and inspect the built-in VM kernels (qemu:debian-5.10, …)',
  description,
  positionals: { usage: `<${SUBCOMMANDS.join('|')}> [NAME...]`, min: 1, max: Infinity, missing: 'vm needs a command: list, start, stop, status or download' },
  options,
  exitStatus: '1 if a kernel could not be downloaded, started or stopped, 0 otherwise',
  async run({ options: o, positionals: [sub = '', ...names] }, io) {
    return run({ ...o, sub: oneOf('vm', sub, SUBCOMMANDS), names }, io);
  },
});
