// `ringbuf-studio probe [--target T]… [--format json]`: what each target's kernel can
// do — release, arch, page size, BTF, ring buffers, and which attach types work.
import { defineCommand } from '../command';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { cliConnectOptions, targetOptions, targetsOf } from '../targetOptions';
import type { Hello } from '../../core/protocol/helper';
import { kernelProblem } from '../../core/util/kernel';
import { probeTarget } from '../../core/session/oneShot';
import { connectTarget } from '../../core/transport/registry';
import { describeError } from '../../core/util/errors';

const description = `Asks the helper on each target what its kernel supports: release, arch, page
size, kernel BTF, BPF ring buffers, program types and attach types.`;

const options = {
  ...targetOptions,
  format: option.choice('--format', ['json', 'text'] as const, 'text', 'json: one object (an array for several targets)'),
};

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

export const probeCommand = defineCommand({
  name: 'probe',
  summary: "show a target's kernel, page size, BTF, ring buffer and attach support",
  description,
  options,
  exitStatus: '1 if a target could not be probed, 0 otherwise',
  async run({ options: o }, io) {
    const targets = targetsOf(o);
    const reports: ProbeReport[] = [];
    let failed = false;
    for (const spec of targets) {
      let conn;
      try {
        conn = await connectTarget(spec, cliConnectOptions(o, io));
        reports.push(probeReport(spec, await probeTarget(conn, { signal: io.signal })));
      } catch (err) {
        failed = true;
        io.stderr(`ringbuf-studio probe: ${spec}: ${describeError(err)}\n`);
      } finally {
        await conn?.close();
      }
    }
    if (o.format === 'json') {
      if (reports.length) io.stdout(JSON.stringify(targets.length === 1 ? reports[0] : reports, null, 2) + '\n');
    } else {
      io.stdout(reports.map(text).join('\n'));
    }
    return failed ? ExitStatus.failure : ExitStatus.ok;
  },
});
