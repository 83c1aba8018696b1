// Small helpers shared by the build tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const fixturesDir = path.resolve(__dirname, '../../fixtures/build');

/** 1-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
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
