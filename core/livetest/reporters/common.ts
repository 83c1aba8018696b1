// What every reporter shows the same way: a file path relative to where the command ran,
// a test's full title, its place in the YAML.
import path from 'node:path';
import type { SuiteResult, TestResult } from '../model';

export interface ReportOptions {
  /** Paths are shown relative to this folder (default: the process's working directory). */
  cwd?: string;
}

export function shownPath(file: string, opts: ReportOptions = {}): string {
  const rel = path.relative(opts.cwd ?? process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** "execve.rbtest.yaml [local]" */
export function suiteTitle(suite: Pick<SuiteResult, 'file' | 'target'>, opts: ReportOptions = {}): string {
  return `${shownPath(suite.file, opts)} [${suite.target}]`;
}

/** "execve.rbtest.yaml:12:9" */
export function testLocation(test: TestResult, opts: ReportOptions = {}): string {
  return `${shownPath(test.file, opts)}:${test.range.line}:${test.range.column}`;
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
