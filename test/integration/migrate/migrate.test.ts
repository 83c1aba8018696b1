// Migrated programs run: each migration applied to its fixture, the result built,
// loaded and attached on the local kernel with core/run startRun, /bin/true spawned,
// and its exec decoded from the ring (comm == "true", pid == the child's).
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { available } from '../../support/prereq';
import { startRun, type RunHandle } from '../../../core/run/run';
import type { MigrationKind } from '../../../core/migrate/index';
import { collect, prepare, runCommand } from '../run/support';
import { buildText, migrated } from '../../unit/migrate/support';
import { repoRoot } from '../../support/compile';

const perfTemplate = path.join(repoRoot, 'bpf-templates', 'perf-to-ringbuf');

const cases: Array<{ fixture: string; kind: MigrationKind; fix: number; map: string; what: string; headers?: string[] }> = [
  { fixture: path.join(perfTemplate, 'perfbuf.bpf.c'), kind: 'perf-to-ringbuf', fix: 0, map: 'events', what: 'the perf-to-ringbuf template\'s perf buffer version, migrated in place', headers: [path.join(perfTemplate, 'perf-to-ringbuf.h')] },
  { fixture: 'perf_simple.bpf.c', kind: 'perf-to-ringbuf', fix: 0, map: 'events', what: 'perf array → ring, reserve/fill/submit in place' },
  { fixture: 'perf_simple.bpf.c', kind: 'perf-to-ringbuf', fix: 1, map: 'events', what: 'perf array → ring, bpf_ringbuf_output' },
  { fixture: 'perf_checked.bpf.c', kind: 'perf-to-ringbuf', fix: 0, map: 'exec_events', what: 'perf array with a checked output → ring, bpf_ringbuf_output' },
  { fixture: 'ringbuf_output.bpf.c', kind: 'output-to-reserve', fix: 0, map: 'rb', what: 'bpf_ringbuf_output → reserve/submit' },
  { fixture: 'bcc_style.bpf.c', kind: 'bcc-to-libbpf', fix: 0, map: 'events', what: 'bcc BPF_RINGBUF_OUTPUT → libbpf map' },
];

describe.skipIf(!available('bpf'))('migrated programs load, attach and deliver decoded events', () => {
  let handle: RunHandle | undefined;
  beforeAll(() => prepare());
  afterEach(async () => {
    await handle?.stop();
    handle = undefined;
  });

  for (const c of cases) {
    it(`${c.what} (${path.basename(c.fixture)})`, async () => {
      const { file, result } = await buildText(migrated(c.fixture, c.kind, c.fix), path.basename(c.fixture), c.headers);
      expect(result.ok, result.stderr).toBe(true);
      handle = await startRun({ file });
      expect([...handle.loaded.get('local')!.programs].every((p) => p.attached)).toBe(true);
      expect(handle.layouts.get(c.map), `event layout of ${c.map}`).toBeTruthy();
      const got = collect(handle);
      const pid = await runCommand('/bin/true');
      const hit = await got.waitFor((e) => e.map === c.map && e.event?.pid === pid, 10_000);
      expect(hit.event?.comm).toBe('true');
    });
  }
});
