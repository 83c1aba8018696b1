// Create Test from Filter's writer: the test lands in `tests:` of the program's
// .rbtest.yaml with the filter as `where` and the count seen; the user's comments and
// content stay; a new file is started when there is none; the result parses as a live test file.
import { describe, expect, it } from 'vitest';
import { addLiveTest, countForObserved, liveTestFileFor, liveTestNames, suggestTestName, testNameProblem, triggerEntry } from '../../../core/livetest/addTest';
import { parseLiveTestFile } from '../../../core/livetest/parse';

const existing = `# Live tests for execve.bpf.c — keep this header
program: execve.bpf.c   # the program
tests:
  # the first test, with a comment above it
  - name: exec of true is seen
    run: ["/bin/true"]   # trigger
    expect:
      - where: $trigger && comm == "true"
        count: 1
`;

describe('Create Test from Filter: the YAML writer', () => {
  it('appends to tests: keeping every comment and the existing test, and the file still parses', () => {
    const { text, line } = addLiveTest(existing, 'execve.bpf.c', { name: 'ls is seen', where: 'comm == "ls"', observed: 3, trigger: 'ls /tmp' });
    for (const comment of ['# Live tests for execve.bpf.c — keep this header', '# the program', '# the first test, with a comment above it', '# trigger']) expect(text).toContain(comment);
    const parsed = parseLiveTestFile(text, '/ws/execve.rbtest.yaml');
    expect(parsed.diagnostics).toEqual([]);
    const tests = parsed.file?.tests ?? [];
    expect(tests.map((t) => t.name)).toEqual(['exec of true is seen', 'ls is seen']);
    const added = tests[1]!;
    expect(added.trigger.argv).toEqual(['ls', '/tmp']);
    expect(added.expect.map((x) => [x.where, x.count])).toEqual([['comm == "ls"', { op: '>=', n: 3 }]]);
    expect(text.split('\n')[line - 1]).toBe('  - name: ls is seen');
    expect(added.range.line).toBe(line);
  });

  it('starts the file when there is none: program: names the program next to it', () => {
    const { text, line } = addLiveTest(undefined, '/ws/probes/exit.bpf.c', { name: 'nothing from sleep', where: 'comm == "sleep"', observed: 0 });
    const parsed = parseLiveTestFile(text, '/ws/probes/exit.rbtest.yaml');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.file?.program).toBe('/ws/probes/exit.bpf.c');
    expect(parsed.file?.tests[0]?.expect[0]?.count).toEqual({ op: '==', n: 0 });
    expect(text.split('\n')[line - 1]).toBe('  - name: nothing from sleep');
    expect(text).toMatch(/^# Live tests for exit\.bpf\.c/);
  });

  it('without a trigger leaves a runnable placeholder marked TODO above it', () => {
    const { text } = addLiveTest(existing, 'execve.bpf.c', { name: 'any event', where: '', observed: 12, trigger: '  ' });
    expect(text).toMatch(/# TODO: placeholder trigger — replace \/bin\/true[^\n]*\n\s+run: \["\/bin\/true"\]/);
    expect(parseLiveTestFile(text, '/ws/execve.rbtest.yaml').file?.tests[1]?.expect[0]?.where).toBe('');
  });

  it('refuses a duplicate name, a file that is not YAML and a tests: that is not a list, naming the fix', () => {
    expect(() => addLiveTest(existing, 'execve.bpf.c', { name: 'exec of true is seen', where: '', observed: 1 })).toThrow(/exists in this file already/);
    expect(() => addLiveTest('program: [unclosed\n', 'execve.bpf.c', { name: 'x', where: '', observed: 1 })).toThrow(/not valid YAML/);
    expect(() => addLiveTest('program: a.bpf.c\ntests: 3\n', 'a.bpf.c', { name: 'x', where: '', observed: 1 })).toThrow(/not a list/);
  });

  it('adds tests: when a file has none', () => {
    const { text } = addLiveTest('# only a program\nprogram: a.bpf.c\n', 'a.bpf.c', { name: 'x', where: 'pid > 1', observed: 2 });
    expect(parseLiveTestFile(text, '/ws/a.rbtest.yaml').file?.tests.map((t) => t.name)).toEqual(['x']);
    expect(text).toContain('# only a program');
  });

  it('helpers: file name, count, trigger kind, existing names', () => {
    expect(liveTestFileFor('/ws/p/execve.bpf.c')).toBe('/ws/p/execve.rbtest.yaml');
    expect(liveTestFileFor('/ws/p/prog.o')).toBe('/ws/p/prog.rbtest.yaml');
    expect(countForObserved(0)).toBe(0);
    expect(countForObserved(5)).toBe('>= 5');
    expect(triggerEntry('/bin/true')).toEqual({ run: ['/bin/true'] });
    expect(triggerEntry('echo hi > /dev/null')).toEqual({ shell: 'echo hi > /dev/null' });
    expect(triggerEntry('')).toBeUndefined();
    expect(liveTestNames(existing)).toEqual(['exec of true is seen']);
  });

  it('suggests a unique name from the filter and checks typed names', () => {
    expect(suggestTestName('comm == "ls"', 3, [])).toBe('comm == "ls" is seen');
    expect(suggestTestName('comm == "ls"', 0, [])).toBe('no comm == "ls"');
    expect(suggestTestName('', 2, ['any event is seen', 'any event is seen (2)'])).toBe('any event is seen (3)');
    expect(testNameProblem('  ', [])).toBe('a test needs a name');
    expect(testNameProblem('a ', ['a'])).toBe('a test named "a" exists in this file already');
    expect(testNameProblem('b', ['a'])).toBeUndefined();
  });
});
