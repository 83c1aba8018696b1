// "Create Test from Filter": adds a test to a program's `<name>.rbtest.yaml` (created when
// missing) with the Live Events filter as `where` and the count seen so far. The file goes
// through the yaml library's Document API, so the user's content and comments stay.
import path from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { StudioError } from '../util/errors';
import { LIVE_TEST_SUFFIX } from './discover';
import { YamlSource } from './yamlSource';

export interface NewLiveTest {
  name: string;
  /** The panel's filter ('' = every event). */
  where: string;
  /** Matching events the panel holds. */
  observed: number;
  /** A command line typed by the user; undefined or blank: a placeholder, marked as such. */
  trigger?: string;
}

export const PLACEHOLDER_TRIGGER_NOTE = ' TODO: placeholder trigger — replace /bin/true with the command that makes the program emit these events';

/** `probes/execve.bpf.c` → `probes/execve.rbtest.yaml` (a `.o` the same way). */
export function liveTestFileFor(program: string): string {
  const base = path.basename(program).replace(/\.bpf\.c$|\.c$|\.bpf\.o$|\.o$/, '');
  return path.join(path.dirname(program), `${base}${LIVE_TEST_SUFFIX}`);
}

/** What was seen becomes the expectation: `>= N`, or 0 (never) when nothing matched. */
export function countForObserved(observed: number): string | number {
  return observed > 0 ? `>= ${observed}` : 0;
}

/** A typed command line: plain words become `run:` (argv, no shell); anything a shell must read, `shell:`. */
export function triggerEntry(line: string | undefined): { run: string[] } | { shell: string } | undefined {
  const text = line?.trim() ?? '';
  if (!text) return undefined;
  if (/^[\w./=+,:@%-]+(?:\s+[\w./=+,:@%-]+)*$/.test(text)) return { run: text.split(/\s+/) };
  return { shell: text };
}

/** The names of the tests a file already has (for a unique new one). */
export function liveTestNames(text: string): string[] {
  const tests = parseDocument(text).get('tests');
  if (!isSeq(tests)) return [];
  return tests.items.flatMap((t) => (isMap(t) && typeof t.get('name') === 'string' ? [t.get('name') as string] : []));
}

/**
 * The file's new text with the test appended to `tests:` (the file is started when `existing`
 * is undefined), and the 1-based line of its `- name:`. Throws StudioError when the file is
 * not YAML the test could be added to.
 */
export function addLiveTest(existing: string | undefined, programFile: string, test: NewLiveTest): { text: string; line: number } {
  const doc = existing === undefined || existing.trim() === '' ? newFile(programFile) : parseExisting(existing);
  let tests = doc.get('tests');
  if (tests === undefined || tests === null) {
    tests = doc.createNode([]);
    doc.set('tests', tests);
  }
  if (!isSeq(tests)) {
    throw new StudioError('`tests:` in this file is not a list; the new test was not added', { code: 'EINVAL', hint: 'make `tests:` a list of tests (see docs/live-tests.md), then try again' });
  }
  if (liveTestNames(doc.toString()).includes(test.name)) {
    throw new StudioError(`a test named "${test.name}" exists in this file already`, { code: 'EEXIST', hint: 'choose another name' });
  }
  tests.items.push(testNode(doc, test));
  const text = doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
  const src = new YamlSource(text);
  return { text, line: src.firstLineOf(src.nodeAt(['tests', tests.items.length - 1])).line };
}

function newFile(programFile: string): Document {
  const doc = new Document({ program: path.basename(programFile), tests: [] });
  doc.commentBefore = ` Live tests for ${path.basename(programFile)}: run them from the Testing view or with \`ringbuf-studio test\`. See docs/live-tests.md.`;
  return doc;
}

function parseExisting(text: string): Document {
  const doc = parseDocument(text);
  const problem = doc.errors[0];
  if (problem) {
    throw new StudioError(`the file is not valid YAML (${problem.message.split('\n')[0] ?? ''}); the new test was not added`, { code: 'EINVAL', hint: 'fix the YAML error first (it is shown in Problems), then try again' });
  }
  if (!isMap(doc.contents)) {
    throw new StudioError('the file is not a map with `program:` and `tests:`; the new test was not added', { code: 'EINVAL', hint: 'see docs/live-tests.md for the format' });
  }
  return doc;
}

function testNode(doc: Document, test: NewLiveTest): YAMLMap {
  const trigger = triggerEntry(test.trigger);
  const node = doc.createNode({
    name: test.name,
    ...(trigger ?? { run: ['/bin/true'] }),
    expect: [{ where: test.where, count: countForObserved(test.observed) }],
  }) as YAMLMap;
  const run = node.get('run', true);
  if (isSeq(run)) {
    // `run: ["ls", "/tmp"]`, as the docs write argv.
    run.flow = true;
    for (const arg of run.items) if (isScalar(arg)) arg.type = 'QUOTE_DOUBLE';
  }
  const triggerKey = node.items[1]?.key;
  if (!trigger && triggerKey && typeof triggerKey === 'object') (triggerKey as { commentBefore?: string }).commentBefore = PLACEHOLDER_TRIGGER_NOTE;
  return node;
}

/** A first name for the test: what it checks, made unique among `existing`. */
export function suggestTestName(filter: string, observed: number, existing: readonly string[]): string {
  const what = filter.trim() ? filter.trim().replace(/\s+/g, ' ').slice(0, 60) : 'any event';
  const base = observed > 0 ? `${what} is seen` : `no ${what}`;
  let name = base;
  for (let k = 2; existing.includes(name); k++) name = `${base} (${k})`;
  return name;
}

/** Why a typed name cannot be used, or undefined. */
export function testNameProblem(name: string, existing: readonly string[]): string | undefined {
  if (!name.trim()) return 'a test needs a name';
  if (existing.includes(name.trim())) return `a test named "${name.trim()}" exists in this file already`;
  return undefined;
}
