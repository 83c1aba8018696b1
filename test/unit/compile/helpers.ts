// Small helpers shared by the build tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TextEdit } from '../../../core/diagnostics';

export const fixturesDir = path.resolve(__dirname, '../../fixtures/build');

/** 1-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
}

/** Applies edits (1-based, UTF-16 columns, end exclusive) to text, last first. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (line: number, column: number): number => {
    let o = 0;
    for (let i = 0; i < line - 1; i++) o += (lines[i]?.length ?? 0) + 1;
    return o + column - 1;
  };
  const sorted = [...edits].sort((a, b) => offset(b.range.line, b.range.column) - offset(a.range.line, a.range.column));
  let out = text;
  for (const e of sorted) {
    const start = offset(e.range.line, e.range.column);
    const end = offset(e.range.endLine, e.range.endColumn);
    out = out.slice(0, start) + e.newText + out.slice(end);
  }
  return out;
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rbs-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copies a fixture into dir (so tests can edit it or put files next to it). */
export function copyFixture(name: string, dir: string): string {
  const to = path.join(dir, name);
  fs.copyFileSync(path.join(fixturesDir, name), to);
  return to;
}
