// Shared helpers for the linter tests: fixtures, applying quick fixes, compiling with
// the real clang (test/support/compile.ts caches objects by content).
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../../../core/diagnostics';
import { compileFixture, repoRoot } from '../../support/compile';

export const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'lint');

export function fixture(name: string): { file: string; text: string } {
  const file = path.join(fixturesDir, name);
  return { file, text: fs.readFileSync(file, 'utf8') };
}

/** Compiles C text as if it were the fixture file (its directory's headers are found). */
export async function compileText(text: string, name: string, defines?: Record<string, string>): Promise<Uint8Array> {
  const { bytes } = await compileFixture(text, { includeDirs: [fixturesDir], name: `lint-${name}`, ...(defines ? { defines } : {}) });
  return bytes;
}

function offsetOf(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) throw new Error(`line ${line} is past the end of the text`);
    off = nl + 1;
  }
  return off + column - 1;
}

export function byCode(diags: Diagnostic[], code: string): Diagnostic[] {
  return diags.filter((d) => d.code === code);
}

/** "RB002@9" strings, the way the tests state expectations. */
export function codeLines(diags: Diagnostic[]): string[] {
  return diags.map((d) => `${d.code}@${d.line}`);
}

/** The text a diagnostic's range covers. */
export function covered(text: string, d: Diagnostic): string {
  return text.slice(offsetOf(text, d.line, d.column), offsetOf(text, d.endLine, d.endColumn));
}
