// No function over 100 lines in the product (TypeScript in core, cli, extension,
// webview/src; C in helper/src). Every long function is listed with its place, so the
// report is the to-do list.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cFunctions,
  isTypeScriptSource,
  listFiles,
  longCFunctions,
  longTypeScriptFunctions,
  PRODUCT_C_DIRS,
  PRODUCT_TS_DIRS,
  type LongFunction,
} from '../../support/architecture';

const LIMIT = 100;

const describeLong = (found: LongFunction[]): string => found.map((f) => `${f.lines} lines: ${f.file}:${f.line} ${f.name}`).join('\n');

describe('function length', () => {
  it(`no TypeScript function in ${PRODUCT_TS_DIRS.join(', ')} is longer than ${LIMIT} lines`, () => {
    const files = listFiles(PRODUCT_TS_DIRS, isTypeScriptSource);
    expect(files.length).toBeGreaterThan(100);
    expect(describeLong(longTypeScriptFunctions(files, LIMIT))).toBe('');
  });

  it(`no C function in ${PRODUCT_C_DIRS.join(', ')} is longer than ${LIMIT} lines`, () => {
    const files = listFiles(PRODUCT_C_DIRS, (name) => name.endsWith('.c'));
    expect(files.length).toBeGreaterThan(5);
    expect(describeLong(longCFunctions(files, LIMIT))).toBe('');
  });
});

describe('the length counters', () => {
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');

  it('count a TypeScript method, an arrow function and a nested function from first to last line', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-length-'));
    try {
      fs.mkdirSync(path.join(root, 'core'));
      fs.writeFileSync(path.join(root, 'core/long.ts'), [
        'export class Long {',
        `  method(): number {\n    let x = 0;\n${body(97)}\n    return x;\n  }`, // 101 lines
        '}',
        `export const arrow = (): number => {\n  let x = 0;\n${body(97)}\n  return x;\n};`, // 101 lines
        `export function outer(): number {\n  function inner(): number {\n    let x = 0;\n${body(95)}\n    return x;\n  }\n  return inner();\n}`, // 102, inner 100
      ].join('\n'));
      const found = longTypeScriptFunctions(['core/long.ts'], LIMIT, root).map((f) => `${f.name} ${f.line} ${f.lines}`);
      expect(found).toEqual(['outer 205 102', 'method 2 101', 'arrow 104 101']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('count a C function from its name to its closing brace, past braces in strings, comments and macros', () => {
    const c = [
      '#include <stdio.h>',
      '#define OPEN {',
      'struct s { int a; };',
      'static const int table[] = { 1, 2 };',
      'static int',
      'first(int a) /* { */',
      '{',
      '\tconst char *s = "}}}";',
      "\tchar c = '}';",
      '\t// }',
      '\tif (a) { return 1; }',
      '\treturn s[0] + c;',
      '}',
      'int second(void) { return first(2); }',
    ].join('\n');
    expect(cFunctions(c)).toEqual([
      { name: 'first', line: 6, lines: 8 },
      { name: 'second', line: 14, lines: 1 },
    ]);
  });
});
