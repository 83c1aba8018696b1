// The build cache with the real clang: a build that read nothing new is reused with its
// warnings; a changed local header, define, source or object builds again.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileBpf } from '../../../core/compile/build';
import { parseDepfile } from '../../../core/compile/buildCache';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { tempDir } from './helpers';

const SOURCE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ev.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_PAGES * 4096);
} rb SEC(".maps");

SEC("raw_tp/sched_process_exit")
int on_exit(void *ctx)
{
	int unused;
	struct ev *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->code = 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
`;

describe('build cache', () => {
  const tmp = tempDir('buildcache');
  afterAll(() => tmp.cleanup());
  const src = path.join(tmp.dir, 'cached.bpf.c');
  const header = path.join(tmp.dir, 'ev.h');
  const out = path.join(tmp.dir, 'out', 'cached.bpf.o');
  fs.writeFileSync(src, SOURCE);
  fs.writeFileSync(header, 'struct ev { __u32 code; };\n');
  const build = (pages = '4'): ReturnType<typeof compileBpf> => compileBpf({ file: src, outFile: out, defines: { RING_PAGES: pages } });
  const ringOf = (o: Uint8Array | undefined): number | undefined => readBpfObject(o ?? new Uint8Array()).maps.find((m) => m.name === 'rb')?.maxEntries;
  const evSize = (o: Uint8Array | undefined): number | undefined => { const t = readBpfObject(o ?? new Uint8Array()).btf?.findByName('ev', 'struct'); return t && 'size' in t ? t.size : undefined; };

  it('a second build that read nothing new is reused: same object, same warnings, no clang run', async () => {
    const first = await build();
    expect(first.ok).toBe(true);
    expect(first.cached).toBeUndefined();
    expect(first.diagnostics.map((d) => d.message)).toContain("unused variable 'unused'");
    const second = await build();
    expect(second.cached).toBe(true);
    expect(second.object).toEqual(first.object);
    expect(second.diagnostics).toEqual(first.diagnostics);
    expect(second.command).toEqual(first.command);
    expect(second.command).not.toContain('-MD');
    // Nothing of the cache lands next to the object the user asked for.
    expect(fs.readdirSync(path.dirname(out))).toEqual(['cached.bpf.o']);
  });

  it('an edited local header builds again, and the object has the new struct', async () => {
    fs.writeFileSync(header, 'struct ev { __u32 code; __u64 more; };\n');
    const r = await build();
    expect(r.cached).toBeUndefined();
    expect(evSize(r.object)).toBe(16);
    expect((await build()).cached).toBe(true);
  });

  it('another define builds again', async () => {
    const r = await build('8');
    expect(r.cached).toBeUndefined();
    expect(ringOf(r.object)).toBe(8 * 4096);
  });

  it('an edited source builds again, and so does an object changed behind our back', async () => {
    fs.writeFileSync(src, SOURCE.replace('int unused;\n', ''));
    const edited = await build('8');
    expect(edited.cached).toBeUndefined();
    expect(edited.diagnostics).toEqual([]);
    fs.appendFileSync(out, 'x');
    const rebuilt = await build('8');
    expect(rebuilt.cached).toBeUndefined();
    expect(ringOf(rebuilt.object)).toBe(8 * 4096);
  });

  it('a failed build leaves nothing to reuse', async () => {
    fs.writeFileSync(header, 'struct ev { __u32 code; no_such_type x; };\n');
    expect((await build('8')).ok).toBe(false);
    fs.writeFileSync(header, 'struct ev { __u32 code; };\n');
    const r = await build('8');
    expect(r.ok).toBe(true);
    expect(r.cached).toBeUndefined();
  });

  it('reads depfiles with continuations and escaped spaces', () => {
    expect(parseDepfile('out.o: a.c \\\n  /x/b\\ c.h rel/d.h\n', '/w')).toEqual(['/w/a.c', '/x/b c.h', '/w/rel/d.h']);
  });
});
