// `only:` (what the Testing view sends for the items a person ran): exactly the named tests
// run — a name that is part of another test's name does not pull that one in, unlike --filter.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLiveTestFile } from '../../../core/livetest/index';
import { available } from '../../support/prereq';
import { prepare, root } from '../run/support';

describe.skipIf(!available('bpf'))('live tests: only the chosen tests', () => {
  beforeAll(() => prepare());

  it('runs exactly the named tests on each target, in file order, and reports progress for them only', async () => {
    const file = path.join(root, 'bpf-templates/execve/execve.rbtest.yaml');
    const started: string[] = [];
    const suites = await runLiveTestFile(file, {
      only: ['no event for a failed exec', 'exec of true is seen'],
      onProgress: (p) => {
        if (p.kind === 'test-start') started.push(p.name);
      },
    });
    expect(suites.map((s) => s.target)).toEqual(['local']);
    expect(suites[0]?.tests.map((t) => [t.name, t.status])).toEqual([
      ['exec of true is seen', 'passed'],
      ['no event for a failed exec', 'passed'],
    ]);
    expect(started).toEqual(['exec of true is seen', 'no event for a failed exec']);
    // The substring filter would take all three ("exec" is in each name); only: takes none of a partial name.
    expect(await runLiveTestFile(file, { only: ['exec'] })).toEqual([]);
  });
});
