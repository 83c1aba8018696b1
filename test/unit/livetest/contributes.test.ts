// What the editor gets from package.json for live tests: the schema registered for
// **/*.rbtest.yaml is the one the parser checks against and is packed into the .vsix
// (vsce's own file list), the walkthrough step's media ships, the command is declared.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RBTEST_SCHEMA } from '../../../core/livetest/schema';
import { repoRoot } from '../../support/compile';

interface Manifest {
  activationEvents: string[];
  contributes: {
    yamlValidation: Array<{ fileMatch: string; url: string }>;
    commands: Array<{ command: string; title: string }>;
    walkthroughs: Array<{ steps: Array<{ id: string; title: string; media: { markdown?: string } }> }>;
  };
}
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;

describe('package.json for live tests', () => {
  const packed = execFileSync(path.join(repoRoot, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: repoRoot, encoding: 'utf8' }).split('\n');

  it('registers the shipped schema for **/*.rbtest.yaml, and the .vsix contains it', () => {
    const entry = manifest.contributes.yamlValidation.find((v) => v.fileMatch === '**/*.rbtest.yaml');
    expect(entry).toBeDefined();
    const file = path.normalize(entry!.url);
    expect(JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8'))).toEqual(RBTEST_SCHEMA);
    expect(packed).toContain(file);
  });

  it('activates on a workspace with live tests; the walkthrough has the live-test step with its media in the .vsix', () => {
    expect(manifest.activationEvents).toContain('workspaceContains:**/*.rbtest.yaml');
    const step = manifest.contributes.walkthroughs[0]?.steps.find((s) => s.id === 'liveTest');
    expect(step?.title).toBe('Write and run a live test');
    expect(packed).toContain(step?.media.markdown);
    expect(manifest.contributes.commands.find((c) => c.command === 'ringbufStudio.createTestFromFilter')?.title).toBe('Create Test from Filter…');
  });
});
