// `ringbuf-studio probe [--target T]… [--format json]`: what each target's kernel can
// do — release, arch, page size, BTF, ring buffers, and which attach types work.
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import type { Hello } from '../../core/protocol/helper';
import { kernelProblem } from '../../core/util/kernel';
import { probeTarget } from '../../core/session/oneShot';
import { connectTarget, LOCAL_TARGET } from '../../core/transport/registry';
import { describeError } from '../../core/util/errors';
import { argReader, oneOf } from '../args';
import { cliConnectOptions, takeTargetArg, type TargetArgs } from './run';

const usage = `usage: ringbuf-studio probe [--target T]... [--format json|text]

Asks the helper on each target what its kernel supports: release, arch, page
size, kernel BTF, BPF ring buffers, program types and attach types.

options:
  --target T             local (default), an ~/.ssh/config alias, user@host[:port], or a VM
                         kernel such as qemu:debian-5.10 (ringbuf-studio vm list); repeatable
  --format json|text     json: one object (an array for several targets)
  --accept-new-host-key  trust an SSH host key seen for the first time
  --helper PATH          the local ringbuf-helper binary to use`;

export interface ProbeReport {
  target: string;
  kernelRelease: string;
  arch: string;
  pageSize: number;
  btf: boolean;
  ringbuf: boolean;
  /** Why ring buffer programs cannot run there, when they cannot. */
  problem?: string;
  helperVersion: string;
  protocol: number;
  programTypes: Record<string, boolean>;
  attachTypes: Record<string, boolean>;
  bpfLoop?: boolean;
  dynptr?: boolean;
}

export function probeReport(target: string, h: Hello): ProbeReport {
  const problem = kernelProblem({ kernel: h.kernel, ringbuf: h.ringbuf, btf: h.btf }, target)?.message;
  return {
    target,
    kernelRelease: h.kernel,
    arch: h.arch,
    pageSize: h.pageSize,
    btf: h.btf,
    ringbuf: h.ringbuf,
    ...(problem ? { problem } : {}),
    helperVersion: h.helper,
    protocol: h.protocol,
    programTypes: h.features.progTypes,
    attachTypes: h.features.attach,
    ...(h.features.bpfLoop !== undefined ? { bpfLoop: h.features.bpfLoop } : {}),
    ...(h.features.dynptr !== undefined ? { dynptr: h.features.dynptr } : {}),
  };
}

function yesNo(map: Record<string, boolean>): string {
  const e = Object.entries(map);
  if (!e.length) return 'not probed';
  return e.map(([k, v]) => `${k} ${v ? 'yes' : 'no'}`).join(', ');
}

function text(r: ProbeReport): string {
  const rows: Array<[string, string]> = [
    ['target', r.target],
    ['kernel', r.kernelRelease],
    ['arch', r.arch],
    ['page size', String(r.pageSize)],
    ['BTF', r.btf ? 'yes (/sys/kernel/btf/vmlinux)' : 'no'],
    ['ring buffers', r.ringbuf ? 'yes' : 'no (needs kernel 5.8+)'],
    ['attach types', yesNo(r.attachTypes)],
    ['program types', yesNo(r.programTypes)],
    ['bpf_loop', r.bpfLoop === undefined ? 'not probed' : r.bpfLoop ? 'yes' : 'no'],
    ['ringbuf dynptr', r.dynptr === undefined ? 'not probed' : r.dynptr ? 'yes' : 'no'],
    ['helper', `${r.helperVersion} (protocol ${r.protocol})`],
  ];
  if (r.problem) rows.push(['problem', r.problem]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const args: TargetArgs & { format: 'json' | 'text' } = { targets: [], acceptNewHostKey: false, verbose: false, format: 'text' };
  const r = argReader(argv);
  for (let a = r.next(); a; a = r.next()) {
    if (takeTargetArg(args, a.flag, a.value)) continue;
    if (a.flag === '--format') {
      args.format = oneOf('--format', a.value(), ['json', 'text'] as const);
      continue;
    }
    throw new CliUsageError(`unknown argument ${a.raw}`);
  }
  if (!args.targets.length) args.targets.push(LOCAL_TARGET);
  const reports: ProbeReport[] = [];
  let failed = false;
  for (const spec of args.targets) {
    let conn;
    try {
      conn = await connectTarget(spec, cliConnectOptions(args, io));
      reports.push(probeReport(spec, await probeTarget(conn, { signal: io.signal })));
    } catch (err) {
      failed = true;
      io.stderr(`ringbuf-studio probe: ${spec}: ${describeError(err)}\n`);
    } finally {
      await conn?.close();
    }
  }
  if (args.format === 'json') {
    if (reports.length) io.stdout(JSON.stringify(args.targets.length === 1 ? reports[0] : reports, null, 2) + '\n');
  } else {
    io.stdout(reports.map(text).join('\n'));
  }
  return failed ? 1 : 0;
}

export const probeCommand: CliCommand = {
  name: 'probe',
  summary: "show a target's kernel, page size, BTF, ring buffer and attach support",
  usage,
  run,
};
