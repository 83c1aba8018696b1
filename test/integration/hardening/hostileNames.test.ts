// `ringbuf-studio run` (local target, real helper and kernel) with a program whose
// directory and file names hold quotes, `$(...)`, backticks, `;` and newlines, and a
// map override whose name is hostile: the literal names are used, nothing executes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliUsageError, type CliIo } from '../../../cli/command';
import { runCommand } from '../../../cli/commands/run';
import { available } from '../../support/prereq';
import { hostileProgram } from '../../unit/hardening/hostile';

function io(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, cwd, signal: new AbortController().signal, out: () => out, err: () => err };
}

describe.skipIf(!available('bpf'))('run with hostile names', () => {
  let work: string;
  let prog: { dir: string; file: string };
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-hostile-run-'));
    prog = hostileProgram(work);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('streams events from a program at a hostile path; a hostile map override is a clean error', async () => {
    const t = io(prog.dir);
    const trigger = setInterval(() => void spawn('/bin/true').on('error', () => undefined), 100);
    const code = await runCommand.run([path.basename(prog.file), '--count', '1', '--duration', '20', '--format', 'jsonl', '--max-entries', 'rb=4096'], t).finally(() => clearInterval(trigger));
    expect(code, t.err()).toBe(0);
    // One event arrived. (Decoded by field name only when the path can be #included by the
    // event-type anchor wrapper: a path holding '"' or a newline cannot, so it shows raw bytes.)
    expect(JSON.parse(t.out().split('\n')[0]!)).toBeTypeOf('object');

    // A map name that is not a C identifier never reaches the helper: a usage error names it literally.
    const bad = io(prog.dir);
    const refused = await runCommand.run([path.basename(prog.file), '--max-entries', `r'b$(touch PWNED);=4096`], bad).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CliUsageError);
    expect((refused as Error).message).toContain(`r'b$(touch PWNED);=4096`);
    for (const d of [work, prog.dir, process.cwd()]) expect(fs.existsSync(path.join(d, 'PWNED'))).toBe(false);
  }, 120_000);
});
