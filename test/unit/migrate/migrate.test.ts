// Migrations as quick fixes: each one applied to a fixture, the result compiled with
// the real clang (core/compile) and read back (maps, helper calls), and the lint rules
// that offer them. Loading and running the results: test/integration/migrate.
import { describe, expect, it } from 'vitest';
import { readBpfObject, type BpfObjectInfo } from '../../../core/elf/bpfObject';
import { lintFile, lintSource } from '../../../core/lint/index';
import { findMigrations } from '../../../core/migrate/index';
import { applyEdits } from '../../../core/source/edits';
import { buildText, migrated, migrateFixture, migrationOf } from './support';

function withoutComments(c: string): string {
  return c.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
}

function helpers(obj: BpfObjectInfo): string[] {
  return [...new Set(obj.programs.flatMap((p) => p.helperCalls.map((c) => c.name)))].sort();
}

async function compiles(text: string, name: string): Promise<BpfObjectInfo> {
  const { file, result } = await buildText(text, name);
  expect(result.diagnostics.filter((d) => d.severity === 'error'), `${name}:\n${text}`).toEqual([]);
  expect(result.ok).toBe(true);
  const errors = lintFile({ file, text, object: result.object! }).filter((d) => d.severity === 'error');
  expect(errors, 'the migrated program lints without errors').toEqual([]);
  return readBpfObject(result.object!, { file });
}

describe('perf event array → ring buffer (RB017)', () => {
  it('is offered on the map type line of a perf array written with bpf_perf_event_output', () => {
    const { file, text } = migrateFixture('perf_simple.bpf.c');
    const [d, ...rest] = lintSource(text, file).filter((x) => x.code === 'RB017');
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'RB017', severity: 'information', line: 16 });
    expect(d!.message).toContain("'events' is a perf event array");
    expect(d!.fixes!.map((f) => f.title)).toEqual([
      "Migrate 'events' to a BPF ring buffer: reserve → fill → submit",
      "Migrate 'events' to a BPF ring buffer: bpf_ringbuf_output() for its call",
    ]);
    expect(d!.fixes![0]!.preferred).toBe(true);
  });

  it('simple local record: becomes reserve → NULL check → fill in place → submit, and compiles', async () => {
    const text = migrated('perf_simple.bpf.c', 'perf-to-ringbuf', 0);
    expect(text).toContain('__uint(type, BPF_MAP_TYPE_RINGBUF);');
    expect(text).toMatch(/__uint\(max_entries, 256 \* 1024\);/);
    expect(withoutComments(text)).not.toMatch(/key_size|value_size|PERF_EVENT_ARRAY|bpf_perf_event_output/);
    expect(text).toContain('struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);\n\tif (!e)\n\t\treturn 0;\n\t__builtin_memset(e, 0, sizeof(*e));');
    expect(text).toContain('bpf_get_current_comm(&e->comm, sizeof(e->comm));');
    expect(text).toContain('bpf_ringbuf_submit(e, 0);');
    const obj = await compiles(text, 'perf_simple.bpf.c');
    expect(obj.maps.find((m) => m.name === 'events')).toMatchObject({ typeName: 'ringbuf', maxEntries: 256 * 1024, hasKeyField: false, hasValueField: false });
    expect(helpers(obj)).toEqual(expect.arrayContaining(['bpf_ringbuf_reserve', 'bpf_ringbuf_submit']));
    expect(helpers(obj)).not.toContain('bpf_perf_event_output');
  });

  it('the copying variant always applies: bpf_ringbuf_output(&map, data, size, 0)', async () => {
    const text = migrated('perf_simple.bpf.c', 'perf-to-ringbuf', 1);
    expect(text).toContain('bpf_ringbuf_output(&events, &e, sizeof(e), 0);');
    const obj = await compiles(text, 'perf_simple.bpf.c');
    expect(helpers(obj)).toContain('bpf_ringbuf_output');
  });

  it('a checked output call with __type key/value and max_entries: map cleaned, call becomes bpf_ringbuf_output', async () => {
    const { migration } = migrationOf('perf_checked.bpf.c', 'perf-to-ringbuf');
    expect(migration.fixes).toHaveLength(1); // no in-place rewrite for this shape
    const text = migrated('perf_checked.bpf.c', 'perf-to-ringbuf', 0);
    expect(text).toContain('if (bpf_ringbuf_output(&exec_events, &ev, sizeof(ev), 0) < 0)');
    expect(text).not.toMatch(/__type\(key|__type\(value|max_entries, 128/);
    const obj = await compiles(text, 'perf_checked.bpf.c');
    expect(obj.maps.find((m) => m.name === 'exec_events')).toMatchObject({ typeName: 'ringbuf', maxEntries: 262144 });
  });

  it('a record in a per-CPU scratch map (pointer data) migrates with bpf_ringbuf_output', async () => {
    const src = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
struct event { __u32 pid; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct event); } heap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } out SEC(".maps");
SEC("tracepoint/sched/sched_process_exec")
int heap_out(void *ctx)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&heap, &zero);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_perf_event_output(ctx, &out, BPF_F_CURRENT_CPU, e, sizeof(*e));
	return 0;
}
`;
    const [m] = findMigrations(src, 'heap.bpf.c');
    expect(m).toMatchObject({ kind: 'perf-to-ringbuf', subject: 'out' });
    const text = applyEdits(src, m!.fixes[0]!.edits);
    expect(text).toContain('bpf_ringbuf_output(&out, e, sizeof(*e), 0);');
    await compiles(text, 'heap.bpf.c');
  });

  it('a perf array that is also read is left alone: the note says why, no fix', () => {
    const src = `struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); } pe SEC(".maps");
SEC("tp/x") int x(void *ctx) { __u64 v = 1; bpf_perf_event_output(ctx, &pe, 0, &v, sizeof(v)); return bpf_perf_event_read(&pe, 0); }
`;
    const [d] = lintSource(src, 'x.bpf.c').filter((x) => x.code === 'RB017');
    expect(d!.fixes).toBeUndefined();
    expect(d!.message).toContain("No automatic migration: 'pe' is used other than by bpf_perf_event_output()");
  });

  it('not offered for a perf array only misused by ringbuf helpers, nor on kernels without ring buffers', () => {
    const { file, text } = migrateFixture('perf_simple.bpf.c');
    expect(lintSource(text, file, { kernelRelease: '5.4.0-150-generic' }).filter((d) => d.code === 'RB017')).toEqual([]);
    const misuse = `struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); } pb SEC(".maps");\nSEC("tp/x") int x(void *c) { __u64 v = 0; bpf_ringbuf_output(&pb, &v, sizeof(v), 0); return 0; }\n`;
    expect(lintSource(misuse, 'm.bpf.c').map((d) => d.code)).not.toContain('RB017');
  });
});

describe('bpf_ringbuf_output → reserve/submit (RB009 fix)', () => {
  it('the record is reserved and filled in place, and the result compiles', async () => {
    const text = migrated('ringbuf_output.bpf.c', 'output-to-reserve', 0);
    expect(text).toContain('struct event *ev = bpf_ringbuf_reserve(&rb, sizeof(*ev), 0);');
    expect(text).toContain('bpf_ringbuf_submit(ev, 0);');
    expect(withoutComments(text)).not.toContain('bpf_ringbuf_output');
    const obj = await compiles(text, 'ringbuf_output.bpf.c');
    expect(helpers(obj)).toEqual(expect.arrayContaining(['bpf_ringbuf_reserve', 'bpf_ringbuf_submit']));
  });
});

describe('bcc BPF_RINGBUF_OUTPUT → libbpf (RB018)', () => {
  it('the bcc source does not compile with plain clang before the migration', async () => {
    const { text } = migrateFixture('bcc_style.bpf.c');
    const { result } = await buildText(text, 'bcc_style.bpf.c');
    expect(result.ok).toBe(false);
  });

  it('both rings are flagged; one fix converts the file: map definitions, helpers, bpf_helpers.h', async () => {
    const { file, text } = migrateFixture('bcc_style.bpf.c');
    const found = lintSource(text, file).filter((d) => d.code === 'RB018');
    expect(found.map((d) => d.line)).toEqual([19, 20]);
    expect(found[0]!.fixes![0]!.title).toBe('Convert 2 BPF_RINGBUF_OUTPUT rings and 3 .ringbuf_*() calls to libbpf (ring buffer map definitions and bpf_ringbuf_*() helpers)');
    const fixed = applyEdits(text, found[0]!.fixes![0]!.edits);
    expect(fixed).toContain('#include <bpf/bpf_helpers.h>');
    expect(fixed).toContain('__uint(max_entries, 8 * 4096);');
    expect(fixed).toContain('} events SEC(".maps");');
    expect(fixed).toContain('struct data_t *data = bpf_ringbuf_reserve(&events, sizeof(struct data_t), 0);');
    expect(fixed).toContain('bpf_ringbuf_submit(data, 0);');
    expect(fixed).toContain('bpf_ringbuf_output(&counts, &one, sizeof(one), 0);');
    expect(lintSource(fixed, file).filter((d) => d.code === 'RB018')).toEqual([]);
    const obj = await compiles(fixed, 'bcc_style.bpf.c');
    expect(obj.maps.filter((m) => m.typeName === 'ringbuf').map((m) => [m.name, m.maxEntries])).toEqual([['events', 32768], ['counts', 4096]]);
  });

  it('a page count that is not a power of two is rounded up; the target page size is used', () => {
    const src = '#include <bpf/bpf_helpers.h>\nBPF_RINGBUF_OUTPUT(rb, 3);\n';
    const [d] = lintSource(src, 'b.bpf.c', { pageSize: 16384 }).filter((x) => x.code === 'RB018');
    expect(applyEdits(src, d!.fixes![0]!.edits)).toContain('__uint(max_entries, 4 * 16384);');
  });

  it('an unknown ringbuf method blocks the fix and says which', () => {
    const src = 'BPF_RINGBUF_OUTPUT(rb, 4);\nint f(void) { return rb.ringbuf_frobnicate(1); }\n';
    const [d] = lintSource(src, 'b.bpf.c').filter((x) => x.code === 'RB018');
    expect(d!.fixes).toBeUndefined();
    expect(d!.message).toContain('rb.ringbuf_frobnicate() has no libbpf equivalent');
  });
});

describe('bcc migration edits stay apart', () => {
  it('the added include and a ring right below the last include become one edit', () => {
    const src = '#include "vmlinux.h"\nBPF_RINGBUF_OUTPUT(rb, 4);\n';
    const [m] = findMigrations(src, 'b.bpf.c');
    const edits = m!.fixes[0]!.edits;
    expect(edits).toHaveLength(1);
    expect(applyEdits(src, edits)).toBe('#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nstruct {\n\t__uint(type, BPF_MAP_TYPE_RINGBUF);\n\t__uint(max_entries, 4 * 4096); /* bcc: page_cnt pages */\n} rb SEC(".maps");\n');
  });
});
