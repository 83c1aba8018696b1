// Shared by the migration tests: fixtures, applying a migration, compiling the
// result with the real clang through core/compile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileBpf, type BuildResult } from '../../../core/compile/build';
import { findMigrations, type Migration, type MigrationKind } from '../../../core/migrate/index';
import { applyEdits } from '../../../core/source/edits';
import { repoRoot } from '../../support/compile';

export const migrateFixtures = path.join(repoRoot, 'test', 'fixtures', 'migrate');

export function migrateFixture(name: string): { file: string; text: string } {
  const file = path.resolve(migrateFixtures, name);
  return { file, text: fs.readFileSync(file, 'utf8') };
}

/** The one migration of `kind` the fixture offers. */
export function migrationOf(name: string, kind: MigrationKind): { migration: Migration; text: string; file: string } {
  const { file, text } = migrateFixture(name);
  const found = findMigrations(text, file).filter((m) => m.kind === kind);
  if (found.length === 0) throw new Error(`${name}: no ${kind} migration offered`);
  return { migration: found[0]!, text, file };
}

/** Applies fix `index` of the fixture's (or file's, when `name` is absolute) migration of `kind`. */
export function migrated(name: string, kind: MigrationKind, index = 0): string {
  const { migration, text } = migrationOf(name, kind);
  const fix = migration.fixes[index];
  if (!fix) throw new Error(`${name}: ${kind} has no fix #${index} (${migration.reason ?? 'no reason'})`);
  return applyEdits(text, fix.edits);
}

/** Writes the text as `name` (with `headers` copied next to it) into a fresh directory and builds it with core/compile. */
export async function buildText(text: string, name: string, headers: string[] = []): Promise<{ file: string; result: BuildResult }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-migrate-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  for (const h of headers) fs.copyFileSync(h, path.join(dir, path.basename(h)));
  const result = await compileBpf({ file, outFile: path.join(dir, name.replace(/\.c$/, '.o')) });
  return { file, result };
}
