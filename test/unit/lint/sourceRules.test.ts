// Source layer, rule by rule, on fixtures that compile with the real clang.
import { describe, expect, it } from 'vitest';
import { lintSource, RULES } from '../../../core/lint/index';
import { IDIOM_HEADER, IDIOMS, idiomProgram } from './idioms';
import { byCode, codeLines, compileText, covered, fixture } from './support';

function lint(name: string, opts?: { pageSize?: number; kernelRelease?: string }): ReturnType<typeof lintSource> {
  const { file, text } = fixture(name);
  return lintSource(text, file, opts);
}

describe('lint source layer', () => {
  it('every fixture compiles with clang -target bpf', async () => {
    for (const name of ['good', 'size_1000', 'size_styles', 'size_header', 'missing_size', 'key_value', 'bcc_ringbuf', 'helper_mismatch', 'null_check', 'leak', 'output', 'record_size', 'dynptr', 'flags', 'misc']) {
      const { text } = fixture(`${name}.bpf.c`);
      const obj = await compileText(text, name);
      expect(obj.length, name).toBeGreaterThan(0);
    }
  });

  it('the canonical reserve → check → fill → submit program is clean', () => {
    expect(lint('good.bpf.c')).toEqual([]);
  });

  it('a ring of 1000 bytes is flagged on line 9 with the size libbpf will use', () => {
    const [d, ...rest] = lint('size_1000.bpf.c');
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'RB002', severity: 'warning', line: 9, source: 'lint' });
    expect(d!.message).toContain('4096 bytes');
    expect(d!.message).toContain('cilium/ebpf (bpf2go) refuses');
    expect(covered(fixture('size_1000.bpf.c').text, d!)).toBe('1000');
  });

  it('evaluates products, shifts, hex with suffixes and macros of macros', () => {
    const diags = lint('size_styles.bpf.c');
    expect(codeLines(diags)).toEqual(['RB002@12', 'RB002@17', 'RB002@22', 'RB002@32']);
    expect(diags.map((d) => /max_entries (\d+)/.exec(d.message)?.[1])).toEqual(['12288', '12288', '12288', '2048']);
    // (1 << 12) * 4 on line 27 is 16384: valid, not reported
  });

  it('page size is a parameter: 16 KiB and 64 KiB pages (arm64)', () => {
    const text = (size: string): string => `#include <bpf/bpf_helpers.h>\nstruct {\n\t__uint(type, BPF_MAP_TYPE_RINGBUF);\n\t__uint(max_entries, ${size});\n} rb SEC(".maps");\n`;
    expect(lintSource(text('4096'), 'a.bpf.c', { pageSize: 16384 }).map((d) => d.code)).toEqual(['RB002']);
    expect(lintSource(text('4096'), 'a.bpf.c', { pageSize: 16384 })[0]!.message).toContain('16384 bytes');
    expect(lintSource(text('64 * 1024'), 'a.bpf.c', { pageSize: 16384 })).toEqual([]);
    expect(lintSource(text('64 * 1024'), 'a.bpf.c', { pageSize: 65536 })).toEqual([]);
    const d = lintSource(text('3 * 16384'), 'a.bpf.c', { pageSize: 65536 });
    expect(d[0]!.message).toContain('ring of 65536 bytes');
    expect(d[0]!.fixes![0]!.edits[0]!.newText).toBe('4 * 16384');
  });

  it('stays quiet when the size comes from a header (the object layer decides)', () => {
    expect(byCode(lint('size_header.bpf.c'), 'RB002')).toEqual([]);
  });

  it('missing and zero max_entries are errors that say what loaders print', () => {
    const diags = byCode(lint('missing_size.bpf.c'), 'RB001');
    expect(codeLines(diags)).toEqual(['RB001@8', 'RB001@12']);
    expect(diags[0]!.severity).toBe('error');
    expect(diags[0]!.message).toContain('Invalid argument(-22)');
    expect(diags[0]!.message).toContain('MaxEntries may be incorrectly set to zero');
    expect(diags[1]!.message).toContain('max_entries 0');
  });

  it('key/value sizes are errors; __type(value, struct X) is the event-type note', () => {
    const diags = lint('key_value.bpf.c').filter((d) => d.code !== 'RB009');
    expect(codeLines(diags)).toEqual(['RB003@14', 'RB003@15', 'RB003@20', 'RB004@27']);
    expect(diags.map((d) => d.severity)).toEqual(['error', 'error', 'error', 'information']);
    expect(diags[0]!.message).toContain('Retrying without BTF');
  });

  it('bcc BPF_RINGBUF_OUTPUT with 3 pages is flagged, 8 pages is fine', () => {
    const diags = byCode(lint('bcc_ringbuf.bpf.c'), 'RB005');
    expect(codeLines(diags)).toEqual(['RB005@8']);
    expect(covered(fixture('bcc_ringbuf.bpf.c').text, diags[0]!)).toBe('3');
  });

  it('perf helper on a ringbuf and ringbuf helper on a perf array', () => {
    const diags = lint('helper_mismatch.bpf.c');
    expect(codeLines(diags)).toEqual(['RB006@23', 'RB006@24']);
    expect(diags[0]!.message).toContain('bpf_perf_event_output');
    expect(diags[1]!.message).toContain("'pb' is a BPF_MAP_TYPE_PERF_EVENT_ARRAY");
  });

  it('a reserved record written before the NULL check; condition-assignment and && checks are fine', () => {
    const diags = lint('null_check.bpf.c');
    expect(codeLines(diags)).toEqual(['RB007@22']);
    expect(diags[0]!.message).toContain("invalid mem access 'ringbuf_mem_or_null'");
  });

  it('records not released on some path, or never', () => {
    const diags = lint('leak.bpf.c');
    expect(codeLines(diags)).toEqual(['RB008@26', 'RB008@34', 'RB008@52']);
    expect(diags[0]!.message).toContain('Unreleased reference');
    expect(diags[1]!.message).toContain('never submitted or discarded in never_submitted()');
  });

  it('dynptr reservations must be released even when they fail', () => {
    expect(codeLines(lint('dynptr.bpf.c'))).toEqual(['RB008@34']);
  });

  it('bpf_ringbuf_output gets an information hint; the rewrite is offered only when safe', () => {
    const diags = lint('output.bpf.c');
    expect(codeLines(diags)).toEqual(['RB009@26', 'RB009@38']);
    expect(diags[0]!.severity).toBe('information');
    expect(diags[0]!.fixes?.length).toBe(1);
    expect(diags[1]!.fixes).toBeUndefined(); // a return between building and output
  });

  it('record larger than the ring, and a ring of only 4 records', () => {
    const diags = lint('record_size.bpf.c');
    expect(codeLines(diags)).toEqual(['RB010@35', 'RB011@40']);
    expect(diags[0]!.message).toContain('5004 bytes');
    expect(diags[1]!.message).toContain('holds only 4 records');
  });

  it('reserve flags and forced wakeups', () => {
    const diags = lint('flags.bpf.c');
    expect(codeLines(diags)).toEqual(['RB016@15', 'RB013@20']);
    expect(diags.map((d) => d.severity)).toEqual(['error', 'hint']);
  });

  it('a ring never written, and a submit of a stack variable', () => {
    expect(codeLines(lint('misc.bpf.c'))).toEqual(['RB014@19', 'RB015@32']);
  });

  it('old kernels: ringbuf needs 5.8, dynptr needs 5.19', () => {
    expect(codeLines(byCode(lint('good.bpf.c', { kernelRelease: '5.4.0-150-generic' }), 'RB012'))).toEqual(['RB012@18']);
    expect(lint('good.bpf.c', { kernelRelease: '5.8.0' })).toEqual([]);
    const dyn = byCode(lint('dynptr.bpf.c', { kernelRelease: '5.15.0-91-generic' }), 'RB012');
    expect(dyn.length).toBe(5); // reserve + discard + submit, then reserve + submit
    expect(byCode(lint('dynptr.bpf.c', { kernelRelease: '6.1.0' }), 'RB012')).toEqual([]);
  });

  it('every rule has a stable code, a severity and a title', () => {
    expect(RULES.map((r) => r.code)).toEqual(RULES.map((_, i) => `RB${String(i + 1).padStart(3, '0')}`));
    for (const r of RULES) expect(r.title.length).toBeGreaterThan(10);
  });
});

describe('reserve/submit pairing on common idioms (no false positives)', () => {
  for (const [name, body] of Object.entries(IDIOMS)) {
    it(`${name}: clean, and it compiles`, async () => {
      const text = idiomProgram(body);
      expect(lintSource(text, `${name}.bpf.c`).filter((d) => d.code !== 'RB009')).toEqual([]);
      await compileText(text, `idiom-${name}`);
    });
  }

  it('a leak inside a loop body and a missing check in a helper are still found', () => {
    const text = `${IDIOM_HEADER}SEC("tp/x") int x(void *ctx) { for (int i = 0; i < 2; i++) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) break; if (i) continue; bpf_ringbuf_submit(e, 0); } return 0; }\nstatic __always_inline void y(void) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); e->v = 1; bpf_ringbuf_submit(e, 0); }\n`;
    expect(lintSource(text, 'x.bpf.c').map((d) => d.code)).toEqual(['RB008', 'RB007']);
  });
});

describe('half-written code (lint while typing)', () => {
  it('every prefix and every one-character deletion of the fixtures lints without throwing', () => {
    let runs = 0;
    for (const name of ['good.bpf.c', 'output.bpf.c', 'leak.bpf.c', 'size_styles.bpf.c']) {
      const { text } = fixture(name);
      for (let i = 0; i <= text.length; i += 5) {
        for (const variant of [text.slice(0, i), text.slice(0, i) + text.slice(i + 1)]) {
          const diags = lintSource(variant, name);
          for (const d of diags) {
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.column).toBeGreaterThanOrEqual(1);
          }
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(1000);
  });

  it('pathological input: deep nesting, unterminated comments and strings', () => {
    const deep = `struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, ${'('.repeat(5000)}1${')'.repeat(5000)}); } rb SEC(".maps");`;
    expect(() => lintSource(deep, 'deep.c')).not.toThrow();
    expect(() => lintSource('/* never closed\nstruct {', 'c.c')).not.toThrow();
    expect(() => lintSource('int f(void) { char *s = "unterminated\n; if (', 'c.c')).not.toThrow();
    expect(() => lintSource('#define A \\\n', 'c.c')).not.toThrow();
    expect(lintSource('', 'empty.c')).toEqual([]);
  });
});

describe('RB015 scope', () => {
  const head = `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nstruct event { int pid; };\nstruct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096 * 64); } rb SEC(".maps");\n`;
  it('a stack array passed to submit is flagged; a pointer from a wrapper of the user is not', () => {
    const stack = `${head}SEC("tp/a") int a(void *ctx) { char buf[16]; bpf_ringbuf_submit(buf, 0); return 0; }\n`;
    expect(lintSource(stack, 's.bpf.c').map((d) => `${d.code}@${d.line}`)).toEqual(['RB014@4', 'RB015@5']); // rb is also never written
    const wrapped = `${head}static __always_inline struct event *get(void) { return bpf_ringbuf_reserve(&rb, sizeof(struct event), 0); }\nSEC("tp/b") int b(void *ctx) { struct event *e = get(); if (!e) return 0; e->pid = 1; bpf_ringbuf_submit(e, 0); return 0; }\n`;
    expect(lintSource(wrapped, 'w.bpf.c')).toEqual([]);
  });
});
