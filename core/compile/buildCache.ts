// Reuses a successful build when nothing it read has changed: the same clang and arguments,
// the same source text, and the same contents of every file clang read (its -MD depfile:
// local headers, vmlinux.h, libbpf's headers, the precompiled header). A Run, a live test and
// a save that change nothing then cost no clang run. The record (object hash, clang's
// diagnostics and warnings, anchored types) sits in the per-user build cache, never in the
// user's folder; anything that does not match is a miss, and a miss is an ordinary build.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics';
import { writeFileAtomic } from '../util/cache';
import { STUDIO_VERSION } from '../util/version';

/** What a build produced, apart from the object itself. */
export interface CachedCompile {
  diagnostics: Diagnostic[];
  command: string[];
  stderr: string;
  anchoredTypes: string[];
  pch?: string;
}

interface CacheRecord {
  key: string;
  deps: Array<{ path: string; sha256: string }>;
  objectSha256: string;
  compile: CachedCompile;
}

const fileHashes = new Map<string, string>();

/** sha256 of a file's contents, memoized by (path, size, mtime, inode) within this process. */
async function fileHash(file: string): Promise<string | undefined> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch {
    return undefined; // gone since the build: the record no longer matches
  }
  const memo = `${file}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const known = fileHashes.get(memo);
  if (known) return known;
  const hash = crypto.createHash('sha256').update(await fs.promises.readFile(file)).digest('hex');
  fileHashes.set(memo, hash);
  return hash;
}

function sha256(bytes: Uint8Array | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** The key of everything a build depends on besides the files clang reads. */
export async function buildKey(parts: { clangPath: string; args: readonly string[]; file: string; text: string; outFile: string; options: Record<string, unknown> }): Promise<string> {
  const clang = await fs.promises.stat(parts.clangPath).catch(() => undefined);
  return sha256(JSON.stringify({ v: STUDIO_VERSION, clang: [parts.clangPath, clang?.size, clang?.mtimeMs], ...parts, text: sha256(parts.text) }));
}

/** Paths in a Makefile depfile (`out.o: a.c b.h \`), relative ones resolved against `dir`. */
export function parseDepfile(text: string, dir: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const colon = joined.search(/:(\s|$)/);
  const body = colon >= 0 ? joined.slice(colon + 1) : joined;
  const out: string[] = [];
  for (const m of body.matchAll(/(?:\\.|[^\s\\])+/g)) out.push(path.resolve(dir, m[0].replace(/\\(.)/g, '$1')));
  return [...new Set(out)];
}

/** The cached result of a build with this key, when the object and every file it read are unchanged. */
export async function lookupBuild(key: string, recordFile: string, outFile: string): Promise<{ compile: CachedCompile; object: Uint8Array } | undefined> {
  let record: CacheRecord;
  try {
    record = JSON.parse(await fs.promises.readFile(recordFile, 'utf8')) as CacheRecord;
  } catch {
    return undefined; // never built here (or the record is damaged): build
  }
  if (record.key !== key) return undefined;
  for (const dep of record.deps) if ((await fileHash(dep.path)) !== dep.sha256) return undefined;
  const object = await fs.promises.readFile(outFile).catch(() => undefined);
  if (!object || sha256(object) !== record.objectSha256) return undefined;
  return { compile: record.compile, object: new Uint8Array(object) };
}

/** Records a successful build: its key, the files clang read (from the depfile) and what it said. */
export async function storeBuild(key: string, recordFile: string, depfile: string, dir: string, object: Uint8Array, compile: CachedCompile): Promise<void> {
  try {
    const deps: CacheRecord['deps'] = [];
    for (const dep of parseDepfile(await fs.promises.readFile(depfile, 'utf8'), dir)) {
      const hash = await fileHash(dep);
      if (hash === undefined) return; // a file clang read is gone already: nothing to record
      deps.push({ path: dep, sha256: hash });
    }
    const record: CacheRecord = { key, deps, objectSha256: sha256(object), compile };
    await writeFileAtomic(recordFile, JSON.stringify(record));
  } catch {
    // Without a record the next build just runs clang again.
    await fs.promises.rm(recordFile, { force: true });
  } finally {
    await fs.promises.rm(depfile, { force: true });
  }
}

/** A build that failed leaves no record to trust. */
export async function forgetBuild(recordFile: string): Promise<void> {
  await fs.promises.rm(recordFile, { force: true });
}
