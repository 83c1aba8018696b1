// `ringbuf-studio export-go`: the command's run() with a captured CliIo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliUsageError, type CliIo } from '../../../cli/command';
import { commands } from '../../../cli/commands/index';
import { repoRoot } from '../../support/compile';

const exportGo = commands.find((c) => c.name === 'export-go')!;

function io(cwd: string): CliIo & { out: () => string } {
  let out = '';
  return { stdout: (t) => void (out += t), stderr: () => undefined, isTty: false, cwd, signal: new AbortController().signal, out: () => out };
}

describe('ringbuf-studio export-go', () => {
  it('is registered and refuses missing or non-C arguments as usage errors', async () => {
    expect(exportGo).toBeDefined();
    await expect(exportGo.run([], io(repoRoot))).rejects.toBeInstanceOf(CliUsageError);
    await expect(exportGo.run(['prog.o', 'out'], io(repoRoot))).rejects.toThrow(/expected a BPF C source/);
  });

  it('exports relative paths against the cwd and prints the Go type and the next steps', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-export-cli-'));
    const c = io(dir);
    const code = await exportGo.run([path.join(repoRoot, 'bpf-templates/execve/execve.bpf.c'), 'execve-go'], c);
    expect(code).toBe(0);
    expect(c.out()).toContain('ring events: Go type execveEvent');
    expect(c.out()).toContain('go generate');
    expect(fs.existsSync(path.join(dir, 'execve-go', 'gen.go'))).toBe(true);
  });
});
