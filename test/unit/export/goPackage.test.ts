// exportGoPackage with the real clang (no kernel, no Go): the files it writes, the
// names it predicts, and the errors for inputs it cannot export.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportGoPackage } from '../../../core/export/goPackage';
import { StudioError } from '../../../core/util/errors';
import { repoRoot } from '../../support/compile';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-export-unit-'));

async function failure(p: Promise<unknown>): Promise<StudioError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StudioError);
    return err as StudioError;
  }
  throw new Error('expected the export to fail');
}

describe('exportGoPackage', () => {
  it('perf-to-ringbuf template: the package layout, the bpf2go line and the names', async () => {
    const out = path.join(tmp(), 'pkg');
    const r = await exportGoPackage({ file: path.join(repoRoot, 'bpf-templates/perf-to-ringbuf/perf-to-ringbuf.bpf.c'), outDir: out, goArch: 'arm64' });
    expect(r.ident).toBe('perfToRingbuf');
    expect(r.goTypes).toEqual({ events: 'perfToRingbufEvent' });
    expect(r.eventTypes).toEqual(['event']);
    const rel = r.files.map((f) => path.relative(out, f));
    expect(rel).toEqual(expect.arrayContaining(['gen.go', 'main.go', 'helpers.go', 'README.md', 'bpf/perf-to-ringbuf.bpf.c', 'bpf/perf-to-ringbuf.h', 'bpf/vmlinux.h', 'bpf/include/bpf/bpf_helpers.h', 'bpf/perf-to-ringbuf.bpf2go.c']));
    // the program is copied unchanged; the wrapper includes it and anchors the event type
    expect(fs.readFileSync(path.join(out, 'bpf/perf-to-ringbuf.bpf.c'), 'utf8')).toBe(fs.readFileSync(path.join(repoRoot, 'bpf-templates/perf-to-ringbuf/perf-to-ringbuf.bpf.c'), 'utf8'));
    const wrapper = fs.readFileSync(path.join(out, 'bpf/perf-to-ringbuf.bpf2go.c'), 'utf8');
    expect(wrapper).toMatch(/^\/\/go:build ignore\n/);
    expect(wrapper).toContain('#include "perf-to-ringbuf.bpf.c"');
    expect(wrapper).toContain('struct event *ringbuf_studio_event__events');
    expect(fs.readFileSync(path.join(out, 'gen.go'), 'utf8')).toContain(
      '//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall" -target arm64 -type event perfToRingbuf bpf/perf-to-ringbuf.bpf2go.c -- -I./bpf -I./bpf/include -idirafter /usr/include/aarch64-linux-gnu',
    );
    const main = fs.readFileSync(path.join(out, 'main.go'), 'utf8');
    expect(main).toContain('var ev perfToRingbufEvent');
    expect(main).toContain('loadPerfToRingbufObjects(&objs, opts)');
    expect(main).toContain('link.Tracepoint("sched", "sched_process_exec", objs.HandleExec, nil)');
    expect(main).toContain('startReader("events", objs.Events, appendRecord0, lines, &readers, &wg)');
  });

  it('exporting again over the same files is fine; over different content it refuses unless forced', async () => {
    const out = path.join(tmp(), 'pkg');
    const file = path.join(repoRoot, 'bpf-templates/execve/execve.bpf.c');
    await exportGoPackage({ file, outDir: out });
    await exportGoPackage({ file, outDir: out });
    fs.appendFileSync(path.join(out, 'main.go'), '// my change\n');
    const err = await failure(exportGoPackage({ file, outDir: out }));
    expect(err.code).toBe('EEXPORTEXISTS');
    expect(err.message).toContain('main.go');
    expect(err.hint).toContain('--force');
    await exportGoPackage({ file, outDir: out, force: true });
    expect(fs.readFileSync(path.join(out, 'main.go'), 'utf8')).not.toContain('my change');
  });

  it('a program without a ring buffer, a missing file, an event type bpf2go cannot express: clear errors, nothing written', async () => {
    const dir = tmp();
    const noRing = path.join(dir, 'noring.bpf.c');
    fs.writeFileSync(noRing, '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\nSEC("tp/sched/sched_process_exec") int x(void *ctx) { return 0; }\n');
    expect((await failure(exportGoPackage({ file: noRing, outDir: path.join(dir, 'a') }))).code).toBe('EEXPORTNORING');
    expect((await failure(exportGoPackage({ file: path.join(dir, 'missing.bpf.c'), outDir: path.join(dir, 'b') }))).code).toBe('ENOSOURCE');
    const ptr = path.join(dir, 'ptr.bpf.c');
    fs.writeFileSync(ptr, '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\nstruct ev { __u32 pid; void *where; };\nstruct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");\nSEC("tp/sched/sched_process_exec") int x(void *ctx) { struct ev *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) return 0; e->pid = 1; e->where = 0; bpf_ringbuf_submit(e, 0); return 0; }\n');
    const err = await failure(exportGoPackage({ file: ptr, outDir: path.join(dir, 'c') }));
    expect(err.code).toBe('EEXPORTTYPE');
    expect(err.message).toBe("cannot export struct ev to Go: field 'where' is a pointer; bpf2go cannot generate Go types for pointers");
    expect(fs.existsSync(path.join(dir, 'c'))).toBe(false);
  });
});
