import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { findDeclaredEventTypes, inferEventTypesFromSource, maskSource, resolveEventLayouts } from '../../../core/decode/eventTypes';
import { compileDecoder } from '../../../core/decode/decode';
import { compileFixture, repoRoot } from '../../support/compile';

const header = `#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
`;

describe('inferEventTypesFromSource', () => {
  it('reads reserve with sizeof(struct X), sizeof(*p), typedefs and later assignment', () => {
    const src = `${header}
typedef struct { __u32 a; } small_t;
struct event { __u32 pid; char comm[16]; };
struct big_event { __u64 x[8]; };
SEC("tp/a") int a(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&rb, sizeof(struct event), 0);
  return 0;
}
SEC("tp/b") int b(void *ctx) {
  struct big_event *p;
  p = bpf_ringbuf_reserve(&rb2, sizeof(*p), 0);
  small_t *s = bpf_ringbuf_reserve(&rb3, sizeof(small_t), 0);
  struct event *q;
  q = bpf_ringbuf_reserve(&rb4, 64, 0);
  return 0;
}
`;
    const got = inferEventTypesFromSource(src);
    expect(got.map((g) => [g.map, g.typeName, g.line])).toEqual([
      ['rb', 'struct event', 9],
      ['rb2', 'struct big_event', 14],
      ['rb3', 'small_t', 15],
      ['rb4', 'struct event', 17],
    ]);
    expect(got[1]?.how).toContain('p declared struct big_event *');
  });

  it('reads bpf_ringbuf_output with a stack struct or a pointer', () => {
    const src = `${header}
struct ev { __u64 ts; };
SEC("tp/a") int a(void *ctx) {
  struct ev v = {};
  bpf_ringbuf_output(&out1, &v, sizeof(v), 0);
  struct ev *pv = get();
  bpf_ringbuf_output(&out2, pv, sizeof(*pv), BPF_RB_FORCE_WAKEUP);
  bpf_ringbuf_output(&out3, &v, 8, 0);
  return 0;
}`;
    expect(inferEventTypesFromSource(src).map((g) => [g.map, g.typeName, g.line])).toEqual([
      ['out1', 'struct ev', 8],
      ['out2', 'struct ev', 10],
      ['out3', 'struct ev', 11],
    ]);
  });

  it('ignores comments, strings and #if 0 blocks', () => {
    const src = `
// bpf_ringbuf_reserve(&c1, sizeof(struct in_comment), 0);
/* bpf_ringbuf_reserve(&c2, sizeof(struct in_block), 0); */
const char *s = "bpf_ringbuf_reserve(&c3, sizeof(struct in_string), 0)";
#if 0
x = bpf_ringbuf_reserve(&c4, sizeof(struct in_if0), 0);
#else
x = bpf_ringbuf_reserve(&live, sizeof(struct in_else), 0);
#endif
#if 1
y = bpf_ringbuf_reserve(&live2, sizeof(struct in_if1), 0);
#else
y = bpf_ringbuf_reserve(&dead, sizeof(struct in_else_of_1), 0);
#endif
`;
    expect(inferEventTypesFromSource(src).map((g) => [g.map, g.typeName, g.line])).toEqual([
      ['live', 'struct in_else', 8],
      ['live2', 'struct in_if1', 11],
    ]);
    expect(maskSource(src).split('\n').length).toBe(src.split('\n').length);
  });

  it('reads bcc ringbuf calls', () => {
    const src = `
BPF_RINGBUF_OUTPUT(events, 8);
struct data_t { u32 pid; };
int kprobe__x(void *ctx) {
  struct data_t data = {};
  events.ringbuf_output(&data, sizeof(data), 0);
  struct data_t *d = events2.ringbuf_reserve(sizeof(struct data_t));
  return 0;
}`;
    expect(inferEventTypesFromSource(src).map((g) => [g.map, g.typeName, g.line])).toEqual([
      ['events', 'struct data_t', 6],
      ['events2', 'struct data_t', 7],
    ]);
  });
});

describe('event types against real objects', () => {
  it('a struct used only through the reserve pointer or a stack variable is not in BTF (clang 14)', async () => {
    const src = `${header}
struct event { __u32 pid; char comm[16]; };
struct out_ev { __u64 ts; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb2 SEC(".maps");
SEC("tracepoint/sched/sched_process_exec")
int h(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid();
  bpf_ringbuf_submit(e, 0);
  struct out_ev o = { .ts = bpf_ktime_get_ns() };
  bpf_ringbuf_output(&rb2, &o, sizeof(o), 0);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
    const obj = readBpfObject((await compileFixture(src, { name: 'only_ptr' })).bytes);
    expect(obj.btf?.findByName('event', 'struct')).toBeUndefined();
    expect(obj.btf?.findByName('out_ev', 'struct')).toBeUndefined();
    const inferred = inferEventTypesFromSource(src);
    expect(inferred.map((i) => [i.map, i.typeName])).toEqual([['rb', 'struct event'], ['rb2', 'struct out_ev']]);
    // Not in BTF → null (raw hex), until the build adds an anchor.
    expect([...resolveEventLayouts(obj, inferred)]).toEqual([['rb', null], ['rb2', null]]);

    // With an anchor (what the build's wrapper adds), the same inference resolves.
    const anchored = `${src}\nstruct event *__ringbuf_studio_anchor_0 SEC(".ringbuf_studio.anchors");\nstruct out_ev *__ringbuf_studio_anchor_1 SEC(".ringbuf_studio.anchors");\n`;
    const obj2 = readBpfObject((await compileFixture(anchored, { name: 'only_ptr_anchored' })).bytes);
    const layouts = resolveEventLayouts(obj2, inferred);
    expect(layouts.get('rb')).toMatchObject({ typeName: 'struct event', size: 20, origin: 'inferred' });
    expect(layouts.get('rb2')).toMatchObject({ typeName: 'struct out_ev', size: 8, origin: 'inferred' });
    const bytes = new Uint8Array(20);
    new DataView(bytes.buffer).setUint32(0, 77, true);
    bytes.set(new TextEncoder().encode('true'), 4);
    expect(compileDecoder(layouts.get('rb')!).decode(bytes)).toEqual({ pid: 77, comm: 'true' });
  });

  it('finds __type(value) and btf_decl_tag declarations', async () => {
    const obj = readBpfObject((await compileFixture(path.join(repoRoot, 'test/fixtures/objects/kinds.bpf.c'), { name: 'kinds' })).bytes);
    const declared = findDeclaredEventTypes(obj);
    expect(declared.get('declared_rb')).toMatchObject({ typeName: 'struct record', origin: 'declared' });
    expect(declared.get('tagged_rb')).toMatchObject({ typeName: 'struct inner', origin: 'declared' });
    expect(declared.get('pair_rb')).toMatchObject({ typeName: 'struct record', origin: 'declared' });
    expect(declared.get('eq_rb')).toMatchObject({ typeName: 'struct inner', origin: 'declared' });
    expect(declared.has('plain_rb')).toBe(false);
    const rb = obj.maps.find((m) => m.name === 'declared_rb');
    expect(rb).toMatchObject({ hasValueField: true, declaredValueType: { typeName: 'struct record' } });

    // Declared wins over inferred; inferred fills the rest.
    const resolved = resolveEventLayouts(obj, [
      { map: 'declared_rb', typeName: 'struct inner', line: 1, how: 'test' },
      { map: 'plain_rb', typeName: 'struct no_such', line: 2, how: 'test' },
      { map: 'plain_rb', typeName: 'struct inner', line: 3, how: 'test' },
    ]);
    expect(resolved.get('declared_rb')?.typeName).toBe('struct record');
    expect(resolved.get('plain_rb')).toMatchObject({ typeName: 'struct inner', origin: 'inferred' });
  });
});

describe('variable-size records', () => {
  it('takes the header type of bpf_ringbuf_reserve_dynptr(&MAP, sizeof(hdr) + len, …)', () => {
    const src = `struct event { __u32 pid; __u32 name_len; };
int f(void *ctx) {
  struct bpf_dynptr ptr;
  struct event hdr = {};
  long len = 5;
  if (bpf_ringbuf_reserve_dynptr(&events, sizeof(hdr) + len, 0, &ptr)) return 0;
  return 0;
}`;
    expect(inferEventTypesFromSource(src)).toEqual([
      expect.objectContaining({ map: 'events', typeName: 'struct event', line: 6 }),
    ]);
  });
});
