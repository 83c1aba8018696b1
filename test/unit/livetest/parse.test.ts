// Reading <name>.rbtest.yaml: the format of issue 13, and every problem at its line and
// column in the YAML (what the CLI prints and the Testing view marks).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLiveTestFile, type ParseResult } from '../../../core/livetest/parse';

const file = '/work/tests/execve.rbtest.yaml';
const parse = (text: string): ParseResult => parseLiveTestFile(text, file);
const at = (r: ParseResult): string[] => r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);

const issueExample = `program: execve.bpf.c            # relative to this file (.bpf.c is built; a .o is used as is)
targets: [local]                 # optional; CLI --target overrides; several = a matrix
max_entries: { events: 1048576 } # optional, as run --max-entries
tests:
  - name: exec of true is seen
    run: ["/bin/true"]           # trigger: argv run on the target after attach (or shell: "…" through /bin/sh -c)
    expect:
      - where: comm == "true" && filename == "/bin/true"   # the panel's filter language, fields by BTF name
        count: ">= 1"            # N, ">= N", "<= N", "> N", "< N", or 0 (never)
    timeout: 5s                  # default 10s; the test waits until every expectation can no longer change
    drops: 0                     # default 0: a drop fails the test (the program's drop counters included)
  - name: no event for a failed exec
    run: ["/nonexistent"]
    expect:
      - where: filename == "/nonexistent"
        count: 0
`;

describe('the .rbtest.yaml format', () => {
  it("reads the issue's example as written", () => {
    const r = parse(issueExample);
    expect(r.diagnostics).toEqual([]);
    const f = r.file!;
    expect(f.program).toBe(path.join('/work/tests', 'execve.bpf.c'));
    expect(f.programRange.line).toBe(1);
    expect(f.targets).toEqual(['local']);
    expect(f.maxEntries).toEqual({ events: 1048576 });
    const [seen, failed] = f.tests;
    expect(seen).toMatchObject({ name: 'exec of true is seen', drops: 0, order: false, range: { line: 5, column: 5 } });
    expect(seen?.trigger).toMatchObject({ kind: 'run', argv: ['/bin/true'], timeoutMs: 5000, range: { line: 6 } });
    expect(seen?.expect[0]).toMatchObject({ where: 'comm == "true" && filename == "/bin/true"', count: { op: '>=', n: 1 }, range: { line: 8, column: 9 } });
    expect(failed?.trigger.timeoutMs).toBe(10_000);
    expect(failed?.expect[0]?.count).toEqual({ op: '==', n: 0 });
  });

  it('knows every count form and duration form, and the defaults', () => {
    const r = parse(`program: p.o
setup:
  - shell: "mkdir -p /tmp/x"
teardown:
  - run: [rm, -rf, /tmp/x]
    timeout: 2m
tests:
  - name: t
    shell: "ls > /dev/null"
    timeout: 1.5
    order: true
    drops: 3
    env: { LANG: C, N: 5 }
    expect:
      - where: a
        count: 3
      - where: b
        count: "<= 4"
      - where: c
        count: "> 0"
      - where: d
        count: "<2"
      - count: "== 7"
      - where: e
`);
    expect(r.diagnostics).toEqual([]);
    const t = r.file!.tests[0]!;
    expect(t.expect.map((e) => e.count)).toEqual([
      { op: '==', n: 3 },
      { op: '<=', n: 4 },
      { op: '>', n: 0 },
      { op: '<', n: 2 },
      { op: '==', n: 7 },
      { op: '>=', n: 1 },
    ]);
    expect(t.expect[4]?.where).toBe('');
    expect(t.trigger).toMatchObject({ kind: 'shell', argv: ['/bin/sh', '-c', 'ls > /dev/null'], timeoutMs: 1500, env: { LANG: 'C', N: '5' } });
    expect(t).toMatchObject({ order: true, drops: 3, dropsRange: { line: 12 } });
    expect(r.file!.setup[0]).toMatchObject({ argv: ['/bin/sh', '-c', 'mkdir -p /tmp/x'], timeoutMs: 60_000 });
    expect(r.file!.teardown[0]).toMatchObject({ argv: ['rm', '-rf', '/tmp/x'], timeoutMs: 120_000, timeoutRange: { line: 6 } });
    expect(r.file!.targets).toBeUndefined();
  });
});

describe('problems point at their line', () => {
  it('a misspelt key, with the key it probably meant', () => {
    expect(at(parse(issueExample.replace('    expect:\n      - where: comm', '    exepct:\n      - where: comm')))).toEqual([
      '5:5 test 1 (exec of true is seen) lacks `expect`: a test has `name:`, exactly one trigger (`run: [argv…]` or `shell: "…"`) and `expect:`',
      '7:5 unknown key `exepct` in test 1 (exec of true is seen) — did you mean `expect`? (known: name, run, shell, expect, timeout, drops, order, env)',
    ]);
  });

  it('a count that is not a count, a duration that is not a duration', () => {
    const r = parse(issueExample.replace('count: ">= 1"', 'count: "about 3"').replace('timeout: 5s', 'timeout: soon'));
    expect(at(r)).toEqual([
      '9:9 expectation 1 of test 1 (exec of true is seen): `count` is N, ">= N", "<= N", "> N", "< N" or 0 (quote the ones with an operator) (got "about 3")',
      '10:5 test 1 (exec of true is seen), `timeout`: a duration: 500ms, 5s, 2m, or a number of seconds (got "soon")',
    ]);
    expect(r.file).toBeUndefined();
  });

  it('a test with both run and shell, or neither', () => {
    const both = parse(issueExample.replace('    run: ["/bin/true"]', '    run: ["/bin/true"]\n    shell: "true"'));
    expect(at(both)[0]).toMatch(/^5:5 test 1 \(exec of true is seen\) has both `run` and `shell`: keep one/);
    const neither = parse(issueExample.replace('    run: ["/nonexistent"]\n', ''));
    expect(at(neither)[0]).toMatch(/^12:5 test 2 \(no event for a failed exec\) has none of `run`, `shell`/);
  });

  it('run as a string instead of a list, and a file without tests', () => {
    expect(at(parse(issueExample.replace('run: ["/bin/true"]', 'run: /bin/true')))[0]).toMatch(/^6:5 test 1 \(exec of true is seen\): `run` is an argument list, e.g. \["\/bin\/true"\]; for a command line use `shell:`/);
    expect(at(parse('program: x.bpf.c\n'))).toEqual(['1:1 the file lacks `tests`: a live test file is a mapping with `program:` and `tests:` (and optionally `targets:`, `max_entries:`, `setup:`, `teardown:`)']);
    expect(at(parse(''))[0]).toMatch(/^1:1 the file is empty/);
  });

  it('YAML syntax errors and duplicate keys', () => {
    expect(at(parse('program: a.bpf.c\ntests:\n  - name: "unterminated\n'))[0]).toMatch(/^\d+:\d+ YAML: Missing closing "quote/);
    expect(at(parse(`${issueExample}program: other.bpf.c\n`))).toEqual(['17:1 YAML: Map keys must be unique']);
  });

  it('a filter that does not parse: that test only, at the character (escapes and quotes counted)', () => {
    const r = parse(`program: p.bpf.c
tests:
  - name: ok
    run: [/bin/true]
    expect:
      - where: comm == "true"
  - name: broken
    run: [/bin/true]
    expect:
      - where: comm = "true"
      - where: "name == \\"a\\\\tb\\" && (pid > 1"
      - where: 'comm == ''it''''s'' x'
`);
    expect(r.file?.tests[0]?.problems).toEqual([]);
    expect(r.file?.tests[1]?.problems.map((d) => `${d.line}:${d.column}-${d.endColumn} ${d.message}`)).toEqual([
      "10:21-22 expectation 1: `where` does not parse: '=' at 6: use '==' to compare",
      '11:45-46 expectation 2: `where` does not parse: missing \')\' for the \'(\' at 19',
      "12:31-35 expectation 3: `where` does not parse: unexpected ''s'' at 13: expected && or || or the end",
    ]);
  });

  it('two tests with one name', () => {
    const r = parse(issueExample.replace('name: no event for a failed exec', 'name: exec of true is seen'));
    expect(at(r)).toEqual(['12:5 two tests are named "exec of true is seen" (test 1 and test 2): names must be unique in a file']);
    expect(r.file?.tests[1]?.problems).toHaveLength(1);
  });
});
