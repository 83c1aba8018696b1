// The one way the CLI prints diagnostics (lint rules, clang, verifier, attach):
// `file:line:col: severity: message [code]` like a compiler (the files the user named
// as they typed them, others relative to the working directory), clang's notes under their diagnostic, the verifier log's
// last lines (the whole log saved to a private file), or the fixed JSON array.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliIo } from './command';
import { formatDiagnostic, toJsonDiagnostic, type Diagnostic } from '../core/diagnostics';
import { describeError } from '../core/util/errors';
import { verifierLogExcerpt } from '../core/verifier/diagnostics';

export interface DiagnosticsStyle {
  /** json: the array fixed in design.md (lint/build --format json). Default text. */
  format?: 'text' | 'json';
  /** Where the lines go: stdout when they are the command's result (lint, build), stderr when events are (run). */
  to?: 'stdout' | 'stderr';
  /** "2 errors and 1 warning generated." on stderr, as compilers end. */
  summary?: boolean;
  /** The files as the user typed them on the command line: printed that way. */
  typed?: readonly string[];
}

/** Paths under the working directory print relative (like compilers); others absolute. */
export function displayPath(file: string, cwd: string): string {
  if (!file || !path.isAbsolute(file)) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function printDiagnostics(diags: readonly Diagnostic[], io: CliIo, style: DiagnosticsStyle = {}): void {
  const write = style.to === 'stdout' ? io.stdout : io.stderr;
  const typed = new Map((style.typed ?? []).map((t) => [path.resolve(io.cwd, t), t]));
  const show = (file: string): string => typed.get(path.resolve(io.cwd, file)) ?? displayPath(file, io.cwd);
  if (style.format === 'json') {
    write(`${JSON.stringify(diags.map((d) => toJsonDiagnostic({ ...d, file: show(d.file) })), null, 2)}\n`);
    return;
  }
  for (const d of diags) {
    write(`${formatDiagnostic({ ...d, file: show(d.file) })}\n`);
    for (const r of d.related ?? []) write(`${show(r.file)}:${r.range.line}:${r.range.column}: note: ${r.message}\n`);
    if (d.code === 'verifier' && d.detail) {
      write(`verifier log (last lines; ${saveVerifierLog(d.detail)}):\n${indent(verifierLogExcerpt(d.detail))}\n`);
    } else if (d.code === 'attach' && d.detail) {
      write(`  ${d.detail}\n`);
    }
  }
  if (style.summary) {
    const count = (severity: Diagnostic['severity'], word: string): string => {
      const n = diags.filter((d) => d.severity === severity).length;
      return n ? `${n} ${word}${n === 1 ? '' : 's'}` : '';
    };
    const parts = [count('error', 'error'), count('warning', 'warning')].filter(Boolean);
    if (parts.length) io.stderr(`${parts.join(' and ')} generated.\n`);
  }
}

/**
 * A terminal cannot show a multi-megabyte verifier log: the whole log goes to a private
 * file (0600 in a fresh 0700 directory) and the excerpt names it.
 */
function saveVerifierLog(log: string): string {
  const lines = log.split('\n').length;
  const size = log.length >= 1 << 20 ? `${(log.length / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(log.length / 1024)} KiB`;
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringbuf-studio-verifier-'));
    const file = path.join(dir, 'verifier.log');
    fs.writeFileSync(file, log, { mode: 0o600 });
    return `full log, ${lines} lines, ${size}: ${file}`;
  } catch (err) {
    return `the full log (${lines} lines) could not be saved: ${describeError(err)}`;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}
