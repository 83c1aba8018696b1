// Names with spaces, quotes, `$(...)`, backticks, `;` and newlines flow as file and
// directory names through `lint` and `build` (clang runs from an argv array, never a
// shell): everything works on the literal name and nothing is executed. The SSH side
// (remote paths, user names, helper argv) is covered by test/unit/transport/ssh/quote.test.ts and
// test/integration/hardening/ssh.test.ts; `run` by test/integration/hardening/hostileNames.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command';
import { buildCommand } from '../../../cli/commands/build';
import { lintCommand } from '../../../cli/commands/lint';
import { HOSTILE_PARTS, hostileProgram } from './hostile';

function io(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTty: false, cwd, signal: new AbortController().signal, out: () => out, err: () => err };
}

let work: string;
let prog: { dir: string; file: string };
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-hostile-'));
  prog = hostileProgram(work);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const pwned = (): string[] => {
  const hits: string[] = [];
  for (const d of [work, prog.dir, process.cwd(), os.tmpdir()]) if (fs.existsSync(path.join(d, 'PWNED'))) hits.push(d);
  return hits;
};

describe('hostile file and directory names through lint and build', () => {
  it('lint: diagnostics name the literal file, nothing runs', async () => {
    const t = io(prog.dir);
    const code = await lintCommand.run([path.basename(prog.file), '--format', 'json'], t);
    const diags = JSON.parse(t.out()) as Array<{ file: string; code: string; line: number }>;
    expect(diags.find((d) => d.code === 'RB002'), t.err()).toMatchObject({ file: path.basename(prog.file) });
    expect(code).toBe(0);
    expect(pwned()).toEqual([]);
  }, 60_000);

  it('build -o into another hostile directory: the object lands at the literal path', async () => {
    const outDir = path.join(work, `out ${HOSTILE_PARTS.slice(2).join('')}`);
    fs.mkdirSync(outDir);
    const out = path.join(outDir, `o'$(id).bpf.o`);
    const t = io(prog.dir);
    const code = await buildCommand.run([prog.file, '-o', out], t);
    expect(code, t.err()).toBe(0);
    expect(fs.readFileSync(out).subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(pwned()).toEqual([]);
  }, 120_000);

  it('lint of an absolute hostile path given from another cwd', async () => {
    const t = io(os.tmpdir());
    await lintCommand.run([prog.file, '--no-compile'], t);
    expect(t.out()).toContain(`:15:`); // compiler-style lines with the literal path, at the max_entries line
    expect(t.out()).toContain("prog q'uote$(id);.bpf.c");
    expect(pwned()).toEqual([]);
  });
});
