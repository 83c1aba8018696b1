// The clang diagnostics parser on real clang output: locations, severities, notes
// attached to their diagnostic, and fix-its that make the file compile.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileBpf, parseClangDiagnostics, type BuildResult } from '../../../core/compile/build';
import { applyEdits } from '../../../core/source/edits';
import { copyFixture, fixturesDir, lineOf, tempDir } from './helpers';

describe('clang diagnostics from a real compile', () => {
  const tmp = tempDir('diag');
  let file: string;
  let text: string;
  let result: BuildResult;

  beforeAll(async () => {
    file = copyFixture('diagnostics.bpf.c', tmp.dir);
    text = fs.readFileSync(file, 'utf8');
    result = await compileBpf({ file, outFile: path.join(tmp.dir, 'out.o') });
  });
  afterAll(() => tmp.cleanup());

  it('fails and reports the missing semicolon as an error at the right place (UTF-16 column)', () => {
    expect(result.ok).toBe(false);
    expect(result.objectPath).toBeUndefined();
    const line = lineOf(text, 'MISSING_SEMI');
    const err = result.diagnostics.find((d) => d.severity === 'error');
    expect(err).toMatchObject({ file, line, code: 'clang', source: 'clang' });
    expect(err?.message).toMatch(/expected ';'/);
    // clang counts bytes; "é—ü" is 7 bytes but 3 UTF-16 units, so the column is where "1" ends in the editor.
    const lineText = text.split('\n')[line - 1] ?? '';
    expect(err?.column).toBe(lineText.indexOf('1 /*') + 2);
    expect(err?.fixes?.[0]).toMatchObject({ title: "Insert ';'", preferred: true });
  });

  it('reports -Wparentheses with its range, both notes as related and each note as a fix', () => {
    const line = lineOf(text, 'ASSIGN_IN_COND');
    const lineText = text.split('\n')[line - 1] ?? '';
    const w = result.diagnostics.find((d) => d.code === '-Wparentheses');
    expect(w).toMatchObject({ file, line, severity: 'warning', source: 'clang' });
    expect(w?.message).not.toContain('[-W');
    expect(w?.column).toBe(lineText.indexOf(' = x') + 2);
    expect(w?.endColumn).toBe(lineText.indexOf('x)') + 2);
    expect(w?.related?.map((r) => r.message)).toEqual([
      expect.stringMatching(/place parentheses/),
      expect.stringMatching(/use '=='/),
    ]);
    expect(w?.fixes?.map((f) => f.edits.length)).toEqual([2, 1]);
    expect(w?.fixes?.[1]?.edits[0]?.newText).toBe('==');
    // notes are not separate diagnostics
    expect(result.diagnostics.filter((d) => d.severity === 'information')).toEqual([]);
  });

  it('applying the error fix and the first note fix gives a file that compiles without those diagnostics', async () => {
    const err = result.diagnostics.find((d) => d.severity === 'error');
    const w = result.diagnostics.find((d) => d.code === '-Wparentheses');
    const edits = [...(err?.fixes?.[0]?.edits ?? []), ...(w?.fixes?.[0]?.edits ?? [])];
    expect(edits.every((e) => e.file === file)).toBe(true);
    fs.writeFileSync(file, applyEdits(text, edits));
    const again = await compileBpf({ file, outFile: path.join(tmp.dir, 'fixed.o') });
    expect(again.diagnostics).toEqual([]);
    expect(again.ok).toBe(true);
    expect(fs.existsSync(path.join(tmp.dir, 'fixed.o'))).toBe(true);
  });
});

describe('clang diagnostics: fatal errors and the command line', () => {
  it('a missing header is an error on its #include line', async () => {
    const file = path.join(fixturesDir, 'fatal.bpf.c');
    const tmp = tempDir('fatal');
    try {
      const r = await compileBpf({ file, outFile: path.join(tmp.dir, 'x.o') });
      expect(r.ok).toBe(false);
      const text = fs.readFileSync(file, 'utf8');
      expect(r.diagnostics).toEqual([
        expect.objectContaining({ file, line: lineOf(text, 'FATAL'), severity: 'error', message: "'no_such_header.h' file not found" }),
      ]);
      expect(r.command).toEqual(expect.arrayContaining(['-target', 'bpf', '-g', '-O2', '-fdiagnostics-parseable-fixits']));
      expect(r.command.some((a) => a.startsWith('-D__TARGET_ARCH_'))).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('clang source snippets are context, not diagnostics', () => {
  it('a flagged line starting with the C label "error:" yields exactly one diagnostic', async () => {
    const file = path.join(fixturesDir, 'label.bpf.c');
    const tmp = tempDir('label');
    try {
      const r = await compileBpf({ file, outFile: path.join(tmp.dir, 'x.o') });
      expect(r.stderr).toMatch(/^\s*error: if \(x = 1\)/m); // the snippet is there
      expect(r.ok).toBe(true);
      expect(r.diagnostics.map((d) => [d.line, d.severity, d.code])).toEqual([[lineOf(fs.readFileSync(file, 'utf8'), 'LABEL'), 'warning', '-Wparentheses']]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('parseClangDiagnostics on text forms clang prints', () => {
  it('keeps the -W flag of -Werror diagnostics, unescapes fix-it text and resolves relative paths', () => {
    const stderr = [
      'In file included from wrap.c:1:',
      'dir/a.bpf.c:3:5: error: unused variable \'v\' [-Werror,-Wunused-variable]',
      '    int v;',
      '        ^',
      'fix-it:"dir/a.bpf.c":{3:5-3:5}:"\\"q\\"\\\\n\\011"',
      '1 error generated.',
    ].join('\n');
    const [d, ...rest] = parseClangDiagnostics(stderr, '/work/x', { readFile: () => undefined });
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ file: '/work/x/dir/a.bpf.c', line: 3, column: 5, severity: 'error', code: '-Wunused-variable', message: "unused variable 'v'" });
    expect(d?.fixes?.[0]?.edits[0]?.newText).toBe('"q"\\n\t');
  });

  it('turns location-less errors into diagnostics on the default file', () => {
    const ds = parseClangDiagnostics("clang: error: unknown argument: '-fnope'\nfatal error: too many errors emitted, stopping now [-ferror-limit=]", '/w', {
      defaultFile: 'p.bpf.c',
    });
    expect(ds.map((d) => [d.file, d.line, d.severity, d.message])).toEqual([
      ['/w/p.bpf.c', 1, 'error', "unknown argument: '-fnope'"],
      ['/w/p.bpf.c', 1, 'error', 'too many errors emitted, stopping now [-ferror-limit=]'],
    ]);
  });
});
