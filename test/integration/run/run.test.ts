// startRun on the local kernel: every template, the seed's style, verifier and
// attach failures on their lines, max_entries overrides.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { available } from '../../support/prereq';
import { RunError, startRun, type RunHandle } from '../../../core/run/run';
import { LocalTarget } from '../../../core/transport/local';
import { collect, fixture, kernelMaps, loadedPrograms, prepare, root, runCommand, waitProgramsGone } from './support';

interface TemplateJson {
  name: string;
  main: string;
  trigger?: string;
}

const templatesDir = path.join(root, 'bpf-templates');
const templates: Array<TemplateJson & { dir: string }> = fs.existsSync(templatesDir)
  ? fs
      .readdirSync(templatesDir)
      .filter((d) => fs.existsSync(path.join(templatesDir, d, 'template.json')))
      .map((d) => ({ ...(JSON.parse(fs.readFileSync(path.join(templatesDir, d, 'template.json'), 'utf8')) as TemplateJson), dir: path.join(templatesDir, d) }))
  : [];

let handle: RunHandle | undefined;
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
});

describe.skipIf(!available('bpf'))('startRun on the local kernel', () => {
  beforeAll(() => prepare());

  it('finds the templates to test', () => {
    expect(templates.length).toBeGreaterThan(0);
  });

  // Data-driven: each template's template.json says what triggers it.
  for (const t of templates) {
    it(`template ${t.name}: loads, attaches and delivers decoded events`, async () => {
      handle = await startRun({ file: path.join(t.dir, t.main) });
      expect([...handle.loaded.get('local')!.programs].some((p) => p.attached)).toBe(true);
      const got = collect(handle);
      const layout = [...handle.layouts.values()][0];
      expect(layout, 'event layout resolved from BTF').toBeTruthy();
      if (/bash/.test(t.trigger ?? '')) {
        // An interactive bash reads lines with readline(): type one.
        await runCommand('script', ['-qc', 'bash --norc --noprofile -i', '/dev/null'], 'echo rbs_typed_line\nexit\n');
        const hit = await got.waitFor((e) => typeof e.event?.line === 'string' && e.event.line.includes('rbs_typed_line'), 15_000);
        expect(hit.event?.comm).toBe('bash');
        expect(hit.event?.pid).toBeGreaterThan(0);
      } else {
        const pids = new Set<number>();
        const trigger = (): void => void runCommand('/bin/true').then((pid) => pids.add(pid));
        trigger();
        const hit = await got.waitFor((e) => pids.has(e.event?.pid as number) && e.event?.comm === 'true', 10_000, trigger);
        expect(hit.host).toBe('local');
        expect(hit.event?.comm).toBe('true');
        if ('exit_code' in (hit.event ?? {})) expect(hit.event?.exit_code).toBe(0);
        if ('uid' in (hit.event ?? {})) expect(hit.event?.uid).toBe(process.getuid!());
      }
      const end = await handle.stop();
      expect(end.reason).toBe('stopped');
    });
  }

  it('decodes the seed style (struct only through the reserve pointer) with field names', async () => {
    handle = await startRun({ file: fixture('seed_exec.bpf.c') });
    expect(handle.layouts.get('rb')?.typeName).toBe('struct exec_event');
    const got = collect(handle);
    const pid = await runCommand('/bin/true');
    const hit = await got.waitFor((e) => e.event?.pid === pid);
    expect(hit.event).toMatchObject({ pid, uid: process.getuid!(), comm: 'true' });
    expect(typeof hit.event?.cgroup).toBe('number');
  });

  it('stops by itself after count events and detaches', async () => {
    handle = await startRun({ file: fixture('seed_exec.bpf.c'), count: 3 });
    const got = collect(handle);
    const iv = setInterval(() => void runCommand('/bin/true'), 50);
    const end = await handle.done;
    clearInterval(iv);
    expect(end.reason).toBe('count');
    expect(got.events.length).toBe(3);
    await waitProgramsGone('rbs_run_seed', 2000);
  });

  it('a verifier rejection (no NULL check) → error diagnostic on the dereferencing line, verifier words, full log', async () => {
    const file = fixture('verifier_nonull.bpf.c');
    const err = await startRun({ file, lint: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    const d = (err as RunError).diagnostics[0]!;
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('REJECTED HERE')) + 1;
    expect(d).toMatchObject({ file, line, column: 2, severity: 'error', code: 'verifier' });
    expect(d.message).toMatch(/invalid mem access 'ringbuf_mem_or_null'/);
    expect(d.detail).toMatch(/processed \d+ insns/);
    expect(loadedPrograms('rbs_run_nonull')).toEqual([]);
  });

  it('the same program is stopped by the linter before it reaches the kernel', async () => {
    const err = await startRun({ file: fixture('verifier_nonull.bpf.c') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).stage).toBe('lint');
    expect((err as RunError).diagnostics.some((d) => d.severity === 'error' && d.code.startsWith('RB'))).toBe(true);
  });

  it('an unreleased reserve → diagnostic on the leaking line, related info on the reserve', async () => {
    const file = fixture('verifier_leak.bpf.c');
    const err = await startRun({ file, lint: false }).catch((e: unknown) => e);
    const d = (err as RunError).diagnostics[0]!;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(d.line).toBe(lines.findIndex((l) => l.includes('LEAKS HERE')) + 1);
    expect(d.message).toMatch(/Unreleased reference/);
    expect(d.related?.[0]?.range.line).toBe(lines.findIndex((l) => l.includes('ACQUIRED HERE')) + 1);
  });

  it('a kprobe-only program → attach error on its SEC line with the plain reason', async () => {
    const file = fixture('attach_kprobe.bpf.c');
    const err = await startRun({ file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).stage).toBe('attach');
    const d = (err as RunError).diagnostics[0]!;
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('SEC("kprobe/')) + 1;
    expect(d).toMatchObject({ file, line, severity: 'error', code: 'attach' });
    expect(d.message).toMatch(/rbs_run_kprobe/);
    expect(d.message).toMatch(/kprobes are not available/);
    await waitProgramsGone('rbs_run_kprobe', 2000);
  });

  it('an fentry program next to a working tracepoint → EPERM warning on the fentry SEC line, the run goes on', async () => {
    const file = fixture('attach_mixed.bpf.c');
    const warnings: string[] = [];
    handle = await startRun({ file, listeners: { diagnostics: (ds) => warnings.push(...ds.map((d) => `${d.line}:${d.severity}:${d.message}`)) } });
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('SEC("fentry/')) + 1;
    expect(warnings.find((w) => w.includes('rbs_run_fentry'))).toMatch(new RegExp(`^${line}:warning:.*not permitted`));
    const got = collect(handle);
    const pid = await runCommand('/bin/true');
    await got.waitFor((e) => new DataView(e.bytes.buffer, e.bytes.byteOffset).getUint32(0, true) === pid);
  });

  it('applies a valid --max-entries override (LOADED and the kernel agree)', async () => {
    handle = await startRun({ file: fixture('seed_exec.bpf.c'), maxEntries: { rb: 16384 } });
    const rb = handle.loaded.get('local')!.maps.find((m) => m.name === 'rb')!;
    expect(rb.maxEntries).toBe(16384);
    expect(handle.loaded.get('local')!.rings[0]?.size).toBe(16384);
    expect(kernelMaps('rb').some((m) => m.max_entries === 16384 && m.type === 'ringbuf')).toBe(true);
  });

  it('refuses an invalid override before load, naming the nearest valid sizes', async () => {
    const before = loadedPrograms('rbs_run_seed').length;
    const err = await startRun({ file: fixture('seed_exec.bpf.c'), maxEntries: { rb: 12288 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).stage).toBe('override');
    expect((err as RunError).message).toMatch(/12288 is not a valid ring buffer size.*8192.*16384/);
    expect(loadedPrograms('rbs_run_seed').length).toBe(before);
    const unknown = await startRun({ file: fixture('seed_exec.bpf.c'), maxEntries: { nope: 4096 } }).catch((e: unknown) => e);
    expect((unknown as RunError).message).toMatch(/no map named 'nope'.*rb/);
  });
  it('several targets → one merged stream, each batch tagged with its host', async () => {
    const a = new LocalTarget({ name: 'host-a' });
    const b = new LocalTarget({ name: 'host-b' });
    try {
      handle = await startRun({ file: fixture('seed_exec.bpf.c'), targets: [a, b] });
      expect([...handle.loaded.keys()]).toEqual(['host-a', 'host-b']);
      const got = collect(handle);
      const pid = await runCommand('/bin/true');
      await got.waitFor((e) => e.host === 'host-a' && e.event?.pid === pid);
      await got.waitFor((e) => e.host === 'host-b' && e.event?.pid === pid);
      expect(loadedPrograms('rbs_run_seed').length).toBe(2);
      await handle.stop();
      handle = undefined;
      await waitProgramsGone('rbs_run_seed', 2000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('pause holds events in the ring, resume delivers them', async () => {
    handle = await startRun({ file: fixture('seed_exec.bpf.c') });
    const got = collect(handle);
    const states: string[] = [];
    handle.onState((s) => states.push(s));
    handle.pause();
    await new Promise((r) => setTimeout(r, 300));
    const before = got.events.length;
    const pid = await runCommand('/bin/true');
    await new Promise((r) => setTimeout(r, 400));
    expect(got.events.some((e) => e.event?.pid === pid)).toBe(false);
    expect(got.events.length).toBe(before);
    handle.resume();
    await got.waitFor((e) => e.event?.pid === pid);
    expect(states).toEqual(['paused', 'running']);
  });
});
