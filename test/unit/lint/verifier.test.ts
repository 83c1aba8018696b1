// The linter's claims checked against the real kernel: what it flags, the verifier (or
// map creation) rejects with the message the rule quotes; what it calls clean — and what
// its quick fixes produce — loads. Loads with bpftool (libbpf), root only.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { lintSource } from '../../../core/lint/index';
import { available } from '../../support/prereq';
import { IDIOM_HEADER, IDIOMS, idiomProgram } from './idioms';
import { applyEdits } from '../../../core/source/edits';
import { byCode, compileText, fixture } from './support';

const run = promisify(execFile);
const bpfAvailable = available('bpf');
const bpftool = ['/usr/sbin/bpftool', '/usr/bin/bpftool'].find((p) => fs.existsSync(p));

/** Loads every program of the object (nothing attached); returns libbpf's output on failure. */
async function load(object: Uint8Array, name: string): Promise<{ ok: boolean; log: string }> {
  if (!bpftool) throw new Error('bpftool is not installed (apt-get install bpftool): it loads the objects in this test');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-verifier-'));
  const obj = path.join(dir, `${name}.o`);
  fs.writeFileSync(obj, object);
  const pin = `/sys/fs/bpf/ringbuf-studio-lint-${process.pid}-${name}`;
  try {
    await run(bpftool, ['prog', 'loadall', obj, pin]);
    return { ok: true, log: '' };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    return { ok: false, log: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  } finally {
    fs.rmSync(pin, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!bpfAvailable)('lint rules agree with the kernel', () => {
  const rejected: Array<[string, string, RegExp]> = [
    ['leak.bpf.c', 'RB008', /Unreleased reference/],
    ['dynptr.bpf.c', 'RB008', /Unreleased reference/],
    ['null_check.bpf.c', 'RB007', /invalid mem access 'ringbuf_mem_or_null'/],
    ['helper_mismatch.bpf.c', 'RB006', /cannot pass map_type 27 into func bpf_perf_event_output/],
    ['misc.bpf.c', 'RB015', /expected=ringbuf_mem/],
    ['missing_size.bpf.c', 'RB001', /map 'rb': failed to create: Invalid argument\(-22\)/],
  ];
  for (const [name, code, message] of rejected) {
    it(`${name}: flagged ${code}, and the kernel refuses it`, async () => {
      const { file, text } = fixture(name);
      expect(byCode(lintSource(text, file), code).length).toBeGreaterThan(0);
      const result = await load(await compileText(text, name), name.replace(/\W/g, '_'));
      expect(result.ok).toBe(false);
      expect(result.log).toMatch(message);
    });
  }

  it('the clean fixture loads', async () => {
    const { file, text } = fixture('good.bpf.c');
    expect(lintSource(text, file).filter((d) => d.severity === 'error')).toEqual([]);
    expect(await load(await compileText(text, 'good'), 'good')).toEqual({ ok: true, log: '' });
  });

  it('the idioms the linter accepts load; the loop leak it flags is refused', async () => {
    for (const [name, body] of Object.entries(IDIOMS)) {
      const result = await load(await compileText(idiomProgram(body), `idiom-${name}`), `idiom_${name}`);
      expect(result, name).toEqual({ ok: true, log: '' });
    }
    const leak = `${IDIOM_HEADER}SEC("tp/x") int x(void *ctx) { for (int i = 0; i < 2; i++) { struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0); if (!e) break; if (i) continue; bpf_ringbuf_submit(e, 0); } return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n`;
    expect(byCode(lintSource(leak, 'x.bpf.c'), 'RB008').length).toBe(1);
    const result = await load(await compileText(leak, 'idiom-loop-leak'), 'idiom_loop_leak');
    expect(result.ok).toBe(false);
    expect(result.log).toMatch(/Unreleased reference/);
  });

  const fixes: Array<[string, string]> = [
    ['output.bpf.c', 'RB009'],
    ['helper_mismatch.bpf.c', 'RB006'],
    ['missing_size.bpf.c', 'RB001'],
  ];
  it('programs whose every error is fixed by the quick fixes load (the RB009 rewrite passes the verifier)', async () => {
    for (const [name, code] of fixes) {
      const { file, text } = fixture(name);
      let fixed = text;
      // apply the fixes for that rule one at a time, re-linting in between
      for (let guard = 0; guard < 5; guard++) {
        const d = byCode(lintSource(fixed, file), code).find((x) => x.fixes?.length);
        if (!d) break;
        fixed = applyEdits(fixed, d.fixes![0]!.edits);
      }
      if (name === 'helper_mismatch.bpf.c') fixed = fixed.replace(/\tbpf_ringbuf_output\(&pb[^\n]*\n/, ''); // RB006 on a perf array has no automatic fix
      expect(lintSource(fixed, file).filter((d) => d.severity === 'error'), name).toEqual([]);
      const result = await load(await compileText(fixed, `${name}-allfixed`), `${name.replace(/\W/g, '_')}_fixed`);
      expect(result, name).toEqual({ ok: true, log: '' });
    }
  });
});
