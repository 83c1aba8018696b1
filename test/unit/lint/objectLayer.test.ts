// Object layer on real compiled objects, and how the two layers merge.
import { describe, expect, it } from 'vitest';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { lintFile, lintObject, lintSource } from '../../../core/lint/index';
import { byCode, codeLines, compileText, fixture } from './support';

async function compiled(name: string, defines?: Record<string, string>): Promise<{ file: string; text: string; object: Uint8Array }> {
  const { file, text } = fixture(name);
  return { file, text, object: await compileText(text, name.replace(/\.bpf\.c$/, ''), defines) };
}

describe('lint object layer', () => {
  it('sees a size defined in a header that the source layer cannot evaluate', async () => {
    const { file, text, object } = await compiled('size_header.bpf.c');
    expect(byCode(lintSource(text, file), 'RB002')).toEqual([]);
    const obj = readBpfObject(object, { file });
    const withText = lintObject(obj, { file, text });
    expect(codeLines(byCode(withText, 'RB002'))).toEqual(['RB002@10']);
    expect(withText[0]!.message).toContain('ring of 16384 bytes');
    // without the source: line 1 of the file, the map named
    const [bare] = lintObject(obj, { file });
    expect(bare).toMatchObject({ code: 'RB002', line: 1, column: 1, file });
    expect(bare!.message).toContain("'rb'");
  });

  it('a -D size only the object knows: the object value wins over the file\'s default', async () => {
    const text = fixture('size_1000.bpf.c').text.replace('__uint(max_entries, 1000);', '__uint(max_entries, RB_SIZE);').replace('#include <bpf/bpf_helpers.h>', '#include <bpf/bpf_helpers.h>\n#ifndef RB_SIZE\n#define RB_SIZE 1000\n#endif');
    const file = 'dflag.bpf.c';
    expect(codeLines(lintSource(text, file))).toEqual(['RB002@12']);
    const good = await compileText(text, 'dflag-good', { RB_SIZE: '65536' });
    expect(lintFile({ file, text, object: good })).toEqual([]);
    const bad = await compileText(text, 'dflag-bad', { RB_SIZE: '20000' });
    const [d, ...rest] = lintFile({ file, text, object: bad });
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'RB002', line: 12 });
    expect(d!.message).toContain('max_entries 20000');
    expect(d!.message).toContain('ring of 32768 bytes');
  });

  it('merges the layers without duplicates, keeping source positions and fixes', async () => {
    for (const name of ['size_1000.bpf.c', 'size_styles.bpf.c', 'missing_size.bpf.c', 'key_value.bpf.c', 'helper_mismatch.bpf.c', 'record_size.bpf.c', 'misc.bpf.c']) {
      const { file, text, object } = await compiled(name);
      const source = lintSource(text, file);
      const merged = lintFile({ file, text, object });
      expect(codeLines(merged), name).toEqual(codeLines(source));
      for (const d of merged) {
        const twin = source.find((s) => s.code === d.code && s.line === d.line);
        expect(d.column, `${name} ${d.code}@${d.line}`).toBe(twin!.column);
        expect(Boolean(d.fixes), `${name} ${d.code}@${d.line} fixes`).toBe(Boolean(twin!.fixes));
      }
    }
  });

  it('object-only findings for each map rule', async () => {
    const kv = await compiled('key_value.bpf.c');
    const diags = lintObject(readBpfObject(kv.object), { file: 'key_value.bpf.o' });
    expect(diags.map((d) => d.code).sort()).toEqual(['RB003', 'RB003', 'RB003', 'RB004']);
    expect(diags.every((d) => d.line === 1)).toBe(true);

    const missing = await compiled('missing_size.bpf.c');
    expect(lintObject(readBpfObject(missing.object), { file: 'm.o' }).map((d) => d.code)).toEqual(['RB001', 'RB001']);

    const mismatch = await compiled('helper_mismatch.bpf.c');
    const mm = lintObject(readBpfObject(mismatch.object), { file: mismatch.file });
    // helper calls carry line info from .BTF.ext
    expect(codeLines(mm)).toEqual(['RB006@23', 'RB006@24']);

    const misc = await compiled('misc.bpf.c');
    expect(codeLines(lintObject(readBpfObject(misc.object), { file: 'misc.o' }))).toEqual(['RB014@1']);
  });

  it('record size from the object\'s BTF when the type is declared on the map', async () => {
    const text = `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n#include "lint_sizes.h"\nstruct sample { char data[HDR_RB_SIZE]; };\nstruct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 8192); __type(value, struct sample); } rb SEC(".maps");\nSEC("tp/x") int x(void *ctx) { struct sample *s = bpf_ringbuf_reserve(&rb, sizeof(*s), 0); if (!s) return 0; bpf_ringbuf_submit(s, 0); return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n`;
    const object = await compileText(text, 'declared-size');
    // the struct's size hides behind a header macro: only the object knows it
    expect(byCode(lintSource(text, 'd.bpf.c'), 'RB010')).toEqual([]);
    expect(byCode(lintObject(readBpfObject(object), { file: 'd.o' }), 'RB010').length).toBe(1);
    expect(codeLines(byCode(lintFile({ file: 'd.bpf.c', text, object }), 'RB010'))).toEqual(['RB010@6']);
  });

  it('old kernel from the object alone', async () => {
    const { object } = await compiled('good.bpf.c');
    const diags = lintObject(readBpfObject(object), { file: 'good.o' }, { kernelRelease: '5.4.0' });
    expect(diags.map((d) => d.code)).toEqual(['RB012']);
  });

  it('a malformed object is a typed error naming the file, not a crash', () => {
    expect(() => lintFile({ file: 'junk.o', object: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]) })).toThrow(/junk\.o/);
  });
});
