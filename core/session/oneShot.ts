// One-shot helper subcommands (`probe`, `vmlinux-h`) on any target: run, collect
// stdout, fail with the helper's own words.
import { decodeHelperFrame, type Hello } from '../protocol/helper';
import { StudioError } from '../util/errors';
import type { HelperExit, TargetConnection } from '../transport/types';

export interface OneShotResult {
  stdout: Buffer;
  stderr: string;
  exit: HelperExit;
}

/** Runs `ringbuf-helper <args>` on the target and collects its output. Rejects on a non-zero exit. */
export async function runHelperOnce(target: TargetConnection, args: readonly string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<OneShotResult> {
  const proc = await target.spawnHelper(args, opts.signal ? { signal: opts.signal } : {});
  proc.stdin.end();
  const chunks: Buffer[] = [];
  let stderr = '';
  proc.stdout.on('data', (d: Buffer | string) => chunks.push(typeof d === 'string' ? Buffer.from(d) : d));
  proc.stderr.on('data', (d: Buffer | string) => (stderr = (stderr + d.toString()).slice(-16384)));
  const stdoutDone = new Promise<void>((resolve) => {
    proc.stdout.on('end', resolve);
    proc.stdout.on('close', resolve);
    proc.stdout.on('error', () => resolve());
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    proc.exited,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!exit) {
    await proc.terminate(500);
    throw new StudioError(`${target.name}: ringbuf-helper ${args.join(' ')} did not finish within ${timeoutMs / 1000} s`, { code: 'EHELPERTIMEOUT' });
  }
  await Promise.race([stdoutDone, new Promise((r) => setTimeout(r, 500).unref())]);
  if (exit.connectionLost) throw new StudioError(`${target.name}: ${exit.connectionLost}`, { code: 'ETARGETLOST', hint: 'reconnect to the target' });
  if (exit.code !== 0) {
    const said = stderr.trim();
    throw new StudioError(`${target.name}: ringbuf-helper ${args.join(' ')} failed (${exit.signal ?? `exit ${exit.code}`})${said ? `: ${said.split('\n').slice(-3).join(' | ')}` : ''}`, {
      code: 'EHELPERFAILED',
      ...(said ? { detail: said } : {}),
    });
  }
  return { stdout: Buffer.concat(chunks), stderr, exit };
}

/** `ringbuf-helper probe`: the HELLO facts with `features.attach` filled in. */
export async function probeTarget(target: TargetConnection, opts: { signal?: AbortSignal } = {}): Promise<Hello> {
  const r = await runHelperOnce(target, ['probe'], { ...opts, timeoutMs: 30_000 });
  const json = r.stdout.toString('utf8').trim();
  // Same decoder as the HELLO frame, so field checks live in one place.
  const body = Buffer.concat([Buffer.from([0x01]), Buffer.from(json, 'utf8')]);
  const m = decodeHelperFrame(body);
  if (m.kind !== 'hello') throw new StudioError('internal: probe output did not decode as HELLO');
  return m.hello;
}

/** `ringbuf-helper vmlinux-h`: the target kernel's BTF as a C header. */
export async function fetchVmlinuxHeader(target: TargetConnection, opts: { signal?: AbortSignal } = {}): Promise<string> {
  const r = target.vmlinuxHeaderText
    ? { stdout: Buffer.from(await target.vmlinuxHeaderText(opts)), stderr: '' }
    : await runHelperOnce(target, ['vmlinux-h'], { ...opts, timeoutMs: 120_000 });
  const text = r.stdout.toString('utf8');
  if (!/struct\s+task_struct\s*\{/.test(text)) {
    throw new StudioError(`${target.name}: the helper's vmlinux.h does not look like a kernel header`, {
      code: 'EVMLINUX',
      hint: 'the target needs kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y)',
      detail: (r.stderr || text).slice(0, 2000),
    });
  }
  return text;
}
