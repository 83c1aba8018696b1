// Every quick fix: apply the edit → re-lint is clean for that rule → the result
// compiles with the real clang → for map rules the compiled object agrees.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../core/diagnostics';
import { lintFile, lintSource } from '../../../core/lint/index';
import { applyEdits } from '../../../core/source/edits';
import { byCode, compileText, fixture } from './support';

/** Rules the object layer checks too: after the fix the object must agree. */
const OBJECT_CHECKED = new Set(['RB001', 'RB002', 'RB003', 'RB006', 'RB010', 'RB011']);

async function checkFix(name: string, code: string, index: number, expectText?: RegExp): Promise<string> {
  const { file, text } = fixture(name);
  const before = byCode(lintSource(text, file), code);
  const d: Diagnostic | undefined = before[index];
  expect(d, `${name}: ${code} #${index}`).toBeDefined();
  const fix = d!.fixes?.[0];
  expect(fix, `${name}: ${code} at line ${d!.line} has a fix`).toBeDefined();
  for (const e of fix!.edits) expect(e.file).toBe(file);
  const fixed = applyEdits(text, fix!.edits);
  if (expectText) expect(fixed).toMatch(expectText);
  const after = byCode(lintSource(fixed, file), code);
  expect(after.length, `${name}: ${code} after the fix:\n${after.map((x) => x.message).join('\n')}`).toBe(before.length - 1);
  const object = await compileText(fixed, `${name}-${code}-${index}`);
  if (OBJECT_CHECKED.has(code)) {
    const merged = byCode(lintFile({ file, text: fixed, object }), code);
    expect(merged.length, `${name}: object layer after fixing ${code}`).toBe(before.length - 1);
  }
  return fixed;
}

describe('lint quick fixes', () => {
  it('a ring of 1000 bytes: the fix makes it 4096', async () => {
    const fixed = await checkFix('size_1000.bpf.c', 'RB002', 0, /__uint\(max_entries, 4096\);/);
    expect(fixed.split('\n')[8]).toBe('\t__uint(max_entries, 4096);');
  });

  it('rounding keeps the author\'s style', async () => {
    await checkFix('size_styles.bpf.c', 'RB002', 0, /__uint\(max_entries, 4 \* 4096\);/);
    await checkFix('size_styles.bpf.c', 'RB002', 1, /#define RB_SZ \(4 \* 4096\)/);
    await checkFix('size_styles.bpf.c', 'RB002', 2, /__uint\(max_entries, 0x4000\);/);
    await checkFix('size_styles.bpf.c', 'RB002', 3, /__uint\(max_entries, 1 << 12\);/);
  });

  it('missing max_entries is inserted after the type line; zero becomes 256 * 1024', async () => {
    const fixed = await checkFix('missing_size.bpf.c', 'RB001', 0);
    expect(fixed).toContain('\t__uint(type, BPF_MAP_TYPE_RINGBUF);\n\t__uint(max_entries, 256 * 1024);\n} rb SEC(".maps");');
    await checkFix('missing_size.bpf.c', 'RB001', 1, /__uint\(max_entries, 256 \* 1024\);\n\} rb_zero/);
  });

  it('key/value lines are deleted', async () => {
    for (let i = 0; i < 3; i++) {
      const fixed = await checkFix('key_value.bpf.c', 'RB003', i);
      expect(fixed.split('\n').length).toBe(fixture('key_value.bpf.c').text.split('\n').length - 1);
    }
  });

  it('bcc page count becomes the next power of two', async () => {
    await checkFix('bcc_ringbuf.bpf.c', 'RB005', 0, /BPF_RINGBUF_OUTPUT\(events, 4\);/);
  });

  it('bpf_perf_event_output on a ringbuf becomes bpf_ringbuf_output', async () => {
    await checkFix('helper_mismatch.bpf.c', 'RB006', 0, /bpf_ringbuf_output\(&rb, &v, sizeof\(v\), 0\);/);
  });

  it('bpf_ringbuf_output of a stack record is rewritten to reserve → check → fill → submit', async () => {
    const fixed = await checkFix('output.bpf.c', 'RB009', 0);
    expect(fixed).toContain('struct event *ev = bpf_ringbuf_reserve(&rb, sizeof(*ev), 0);\n\tif (!ev)\n\t\treturn 0;');
    expect(fixed).toContain('ev->pid = bpf_get_current_pid_tgid() >> 32;');
    expect(fixed).toContain('bpf_get_current_comm(&ev->comm, sizeof(ev->comm));');
    expect(fixed).toContain('bpf_ringbuf_submit(ev, 0);');
    // the rewritten function has no pairing problems
    const pairing = lintSource(fixed, 'output.bpf.c').filter((d) => ['RB007', 'RB008', 'RB015'].includes(d.code));
    expect(pairing).toEqual([]);
  });

  it('record size: the ring grows to hold 64 records', async () => {
    await checkFix('record_size.bpf.c', 'RB010', 0, /__uint\(max_entries, 524288\);\n\} small_rb/);
    await checkFix('record_size.bpf.c', 'RB011', 0, /__uint\(max_entries, 1 << 16\);\n\} mid_rb/);
  });

  it('reserve flags become 0; forced wakeup becomes adaptive', async () => {
    await checkFix('flags.bpf.c', 'RB016', 0, /bpf_ringbuf_reserve\(&rb, sizeof\(\*v\), 0\)/);
    await checkFix('flags.bpf.c', 'RB013', 0, /bpf_ringbuf_submit\(v, 0\)/);
  });

  it('a size from a header: the object layer places the warning on the line and fixes it', async () => {
    const { file, text } = fixture('size_header.bpf.c');
    const object = await compileText(text, 'size_header');
    const [d] = byCode(lintFile({ file, text, object }), 'RB002');
    expect(d).toMatchObject({ line: 10, code: 'RB002' });
    expect(d!.message).toContain('max_entries 12288');
    const fixed = applyEdits(text, d!.fixes![0]!.edits);
    expect(fixed).toContain('__uint(max_entries, 16384);');
    const again = await compileText(fixed, 'size_header-fixed');
    expect(byCode(lintFile({ file, text: fixed, object: again }), 'RB002')).toEqual([]);
  });
});
