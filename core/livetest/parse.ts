// `<name>.rbtest.yaml` → LiveTestFile. YAML syntax, then the shipped JSON Schema, then
// what a schema cannot say (count and duration values, filter syntax, unique names); every
// problem is a Diagnostic at its line and column in the YAML. A problem inside one test
// (its filter) makes only that test an error; the others still run.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic, SourceRange } from '../diagnostics';
import { FilterError, compileFilter } from '../panel/filter';
import type { CountSpec, Expectation, LiveTest, LiveTestCommand, LiveTestFile } from './model';
import { schemaDiagnostics } from './schema';
import { YamlSource, type YamlPath } from './yamlSource';

/** The pseudo-field live tests add to the filter language. */
export const TRIGGER_FIELD = '$trigger';
export const DEFAULT_TEST_TIMEOUT_MS = 10_000;
export const DEFAULT_STEP_TIMEOUT_MS = 60_000;

export interface ParsedLiveTest extends LiveTest {
  /** Errors that stop this test from running (e.g. a filter that does not parse). */
  problems: Diagnostic[];
}

export interface ParsedLiveTestFile extends LiveTestFile {
  tests: ParsedLiveTest[];
}

export interface ParseResult {
  /** Undefined when the file as a whole is unusable (syntax, schema); see diagnostics. */
  file?: ParsedLiveTestFile;
  diagnostics: Diagnostic[];
}

export async function readLiveTestFile(file: string): Promise<ParseResult> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.promises.readFile(abs, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return { diagnostics: [problem(abs, { line: 1, column: 1, endLine: 1, endColumn: 1 }, 'rbtest-file', `cannot read ${file}: ${reason}`)] };
  }
  return parseLiveTestFile(text, abs);
}

/** Parses the text of a .rbtest.yaml at `file` (paths in it are relative to the file's folder). */
export function parseLiveTestFile(text: string, file: string): ParseResult {
  const abs = path.resolve(file);
  const src = new YamlSource(text);
  const yamlProblems = src.doc.errors.map((e) => problem(abs, src.rangeOf(e.pos[0], e.pos[1]), 'rbtest-yaml', `YAML: ${e.message.split('\n')[0] ?? e.message}`));
  if (yamlProblems.length) return { diagnostics: yamlProblems };
  const data: unknown = src.doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return { diagnostics: [problem(abs, src.rangeOf(0, 0), 'rbtest-schema', 'the file is empty: a live test file needs `program:` and `tests:` (see docs/live-tests.md)')] };
  }
  const schemaProblems = schemaDiagnostics(data, src, abs);
  if (schemaProblems.length) return { diagnostics: schemaProblems };
  return buildModel(data as RawFile, src, abs);
}

// The shapes the schema guarantees.
type RawEnv = Record<string, string | number | boolean>;
interface RawCommand {
  run?: string[];
  shell?: string;
  timeout?: string | number;
  env?: RawEnv;
}
interface RawExpectation {
  where?: string;
  count?: string | number;
}
interface RawTest extends RawCommand {
  name: string;
  expect: RawExpectation[];
  drops?: number;
  order?: boolean;
}
interface RawFile {
  program: string;
  targets?: string[];
  max_entries?: Record<string, number>;
  setup?: RawCommand[];
  teardown?: RawCommand[];
  tests: RawTest[];
}

function buildModel(raw: RawFile, src: YamlSource, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const names = new Map<string, number>();
  const tests = raw.tests.map((t, i) => {
    const test = buildTest(t, ['tests', i], src, file);
    const first = names.get(t.name);
    if (first !== undefined) {
      test.problems.push(problem(file, src.entryRange(['tests', i, 'name']), 'rbtest-name', `two tests are named "${t.name}" (test ${first + 1} and test ${i + 1}): names must be unique in a file`));
    } else names.set(t.name, i);
    diagnostics.push(...test.problems);
    return test;
  });
  const model: ParsedLiveTestFile = {
    file,
    program: path.resolve(path.dirname(file), raw.program),
    programRange: src.entryRange(['program']),
    ...(raw.targets ? { targets: raw.targets } : {}),
    maxEntries: raw.max_entries ?? {},
    setup: (raw.setup ?? []).map((c, i) => buildCommand(c, ['setup', i], src, DEFAULT_STEP_TIMEOUT_MS)),
    teardown: (raw.teardown ?? []).map((c, i) => buildCommand(c, ['teardown', i], src, DEFAULT_STEP_TIMEOUT_MS)),
    tests,
  };
  return { file: model, diagnostics };
}

function buildTest(t: RawTest, at: YamlPath, src: YamlSource, file: string): ParsedLiveTest {
  const problems: Diagnostic[] = [];
  const expect = t.expect.map((e, k) => {
    const x = buildExpectation(e, [...at, 'expect', k], k, src);
    const err = filterSyntaxError(x);
    if (err) problems.push(problem(file, err.range, 'rbtest-filter', err.message));
    return x;
  });
  return {
    name: t.name,
    range: src.firstLineOf(src.nodeAt(at)),
    trigger: buildCommand(t, at, src, DEFAULT_TEST_TIMEOUT_MS),
    expect,
    drops: t.drops ?? 0,
    ...(t.drops !== undefined ? { dropsRange: src.entryRange([...at, 'drops']) } : {}),
    order: t.order ?? false,
    problems,
  };
}

function buildExpectation(e: RawExpectation, at: YamlPath, index: number, src: YamlSource): Expectation {
  const whereNode = src.nodeAt([...at, 'where']);
  return {
    index,
    where: e.where ?? '',
    count: e.count === undefined ? { op: '>=', n: 1 } : parseCount(e.count),
    range: src.firstLineOf(src.nodeAt(at)),
    whereRange: whereNode ? src.valueOffsets(whereNode) : () => src.firstLineOf(src.nodeAt(at)),
  };
}

function buildCommand(c: RawCommand, at: YamlPath, src: YamlSource, defaultTimeoutMs: number): LiveTestCommand {
  const kind = c.run ? 'run' : 'shell';
  return {
    kind,
    argv: c.run ? [...c.run] : ['/bin/sh', '-c', c.shell ?? ''],
    env: Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, String(v)])),
    timeoutMs: c.timeout === undefined ? defaultTimeoutMs : parseDuration(c.timeout),
    range: src.entryRange([...at, kind]),
    ...(c.timeout !== undefined ? { timeoutRange: src.entryRange([...at, 'timeout']) } : {}),
  };
}

/** `N`, `">= N"`, `"<= N"`, `"> N"`, `"< N"`, `"== N"` (the schema checked the form). */
export function parseCount(v: string | number): CountSpec {
  if (typeof v === 'number') return { op: '==', n: v };
  const m = /^\s*(==|>=|<=|>|<)?\s*([0-9]+)\s*$/.exec(v);
  if (!m) throw new Error(`internal: count ${JSON.stringify(v)} passed the schema`);
  return { op: (m[1] ?? '==') as CountSpec['op'], n: Number(m[2]) };
}

/** `500ms`, `5s`, `1.5s`, `2m`, or a number of seconds (the schema checked the form). */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return Math.round(v * 1000);
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$/.exec(v);
  if (!m) throw new Error(`internal: duration ${JSON.stringify(v)} passed the schema`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000);
}

/** A filter that does not parse, at the offending character in the YAML. */
export function filterSyntaxError(x: Expectation, knownFields?: Iterable<string>): { message: string; range: SourceRange } | undefined {
  try {
    compileFilter(x.where, knownFields, { pseudoFields: [TRIGGER_FIELD] });
    return undefined;
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    return { message: `expectation ${x.index + 1}: \`where\` does not parse: ${err.message}`, range: x.whereRange(err.position, err.length) };
  }
}

function problem(file: string, range: SourceRange, code: string, message: string): Diagnostic {
  return { file, ...range, severity: 'error', code, message, source: 'livetest' };
}
