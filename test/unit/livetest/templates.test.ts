// Every template ships a live test file next to its program, and `new` scaffolds it: a
// user starts with a passing test (test/integration/livetest runs them on the kernel).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLiveTestFile } from '../../../core/livetest/parse';
import { listTemplates, scaffoldTemplate } from '../../../core/templates';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-lt-templates-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(listTemplates().map((t) => [t.name, t] as const))('template %s', (name, t) => {
  it('ships <name>.rbtest.yaml for its main program, clean against the schema', async () => {
    expect(t.files).toContain(`${name}.rbtest.yaml`);
    const r = await readLiveTestFile(path.join(t.dir, `${name}.rbtest.yaml`));
    expect(r.diagnostics).toEqual([]);
    expect(r.file?.program).toBe(path.join(t.dir, t.main));
    expect(r.file?.tests.length).toBeGreaterThan(0);
  });

  it('is scaffolded with the program, still pointing at it', async () => {
    const dest = path.join(tmp, name);
    await scaffoldTemplate(name, dest, { vmlinuxHeaderDir: tmp });
    const r = await readLiveTestFile(path.join(dest, `${name}.rbtest.yaml`));
    expect(r.file?.program).toBe(path.join(dest, t.main));
    expect(fs.existsSync(r.file?.program ?? '')).toBe(true);
  });
});
