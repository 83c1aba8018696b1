// Shared pieces of the run tests: real helper, real clang, real kernel.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compileDecoder, type DecodedEvent, type EventDecoder } from '../../../core/decode/decode';
import type { RunHandle } from '../../../core/run/run';
import type { RecordBatch } from '../../../core/session/types';

export const root = path.resolve(__dirname, '../../..');
export const fixtures = path.join(root, 'test/fixtures/run');
export const fixture = (name: string): string => path.join(fixtures, name);

/** Helper binary and dist/ (libbpf headers, cli.js) — both incremental. */
export function prepare(opts: { cli?: boolean } = {}): void {
  execFileSync('make', ['-s', '-C', path.join(root, 'helper')], { stdio: 'inherit' });
  const needBuild = opts.cli || !fs.existsSync(path.join(root, 'dist/include/bpf/bpf_helpers.h'));
  if (needBuild) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}

export interface Collected {
  events: Array<{ host: string; map: string; event: DecodedEvent | undefined; bytes: Uint8Array }>;
  batches: number;
}

/** Decodes every batch of a run with its layouts; `waitFor` polls until a predicate holds. */
export function collect(handle: RunHandle): Collected & { waitFor: (pred: (e: Collected['events'][number]) => boolean, ms?: number, tick?: () => void) => Promise<Collected['events'][number]> } {
  const decoders = new Map<string, EventDecoder | undefined>();
  for (const [map, layout] of handle.layouts) decoders.set(map, layout ? compileDecoder(layout) : undefined);
  const out: Collected = { events: [], batches: 0 };
  handle.onBatch((b: RecordBatch) => {
    out.batches++;
    const d = decoders.get(b.map);
    for (let i = 0; i < b.count; i++) {
      const off = b.offsets[i]!;
      const len = b.lengths[i]!;
      out.events.push({ host: b.host, map: b.map, event: d?.decode(b.data, off, len), bytes: b.data.slice(off, off + len) });
    }
  });
  const waitFor = async (pred: (e: Collected['events'][number]) => boolean, ms = 10_000, tick?: () => void): Promise<Collected['events'][number]> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = out.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no matching event within ${ms} ms; got ${out.events.length}: ${JSON.stringify(out.events.slice(-5).map((e) => e.event ?? Buffer.from(e.bytes).toString('hex')))}`);
      }
      tick?.();
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return Object.assign(out, { waitFor });
}

/** Spawns a command, returns its pid once it exited. */
export async function runCommand(cmd: string, args: string[] = [], input?: string): Promise<number> {
  const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
  if (input !== undefined) child.stdin!.end(input);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

export { loadedPrograms, waitProgramsGone } from '../../support/bpfPrograms';

interface BpftoolMap {
  id: number;
  name?: string;
  type?: string;
  max_entries?: number;
}

/** `bpftool map show` entries with this name. */
export function kernelMaps(name: string): BpftoolMap[] {
  const maps = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j'], { maxBuffer: 64 << 20 }).toString()) as BpftoolMap[];
  return maps.filter((m) => m.name === name);
}
