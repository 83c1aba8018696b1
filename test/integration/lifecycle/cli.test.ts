// `ringbuf-studio run … --format jsonl` and Ctrl-C right after a burst: every record the
// program committed is a line on stdout, and the last stderr line says so.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from '../../support/child';
import { available } from '../../support/prereq';
import { prepare, waitProgramsGone } from '../run/support';
import { burst, lifecycleProgram, pinAccount, root, type LifecycleProgram } from './support';

const cli = path.join(root, 'dist/cli.js');

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!available('bpf'))('ringbuf-studio run at Ctrl-C', () => {
  let prog: LifecycleProgram | undefined;
  beforeAll(() => prepare({ cli: true }));
  afterEach(() => {
    prog?.cleanup();
    prog = undefined;
  });

  it('a 50 000-record burst, then SIGINT at once: 50 000 JSON lines on stdout, the books on stderr, exit 0', async () => {
    const p = (prog = lifecycleProgram());
    const r = startChild(process.execPath, [cli, 'run', p.source, '--format', 'jsonl'], { cwd: p.dir });
    const account = await pinAccount(p.account, 60_000);
    try {
      await until(() => r.stderr().includes('attached'), 60_000, 'the program attached');
      await burst(p.comm, 200).done;
      r.child.kill('SIGINT');
      const code = await r.exited;
      expect(code, r.stderr()).toBe(0);
      const lines = r.stdout().trimEnd().split('\n');
      const books = account.read();
      expect(books).toEqual({ committed: 50_000, failed: 0 });
      expect(lines).toHaveLength(50_000);
      const first = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(Object.keys(first)).toEqual(['seq', 'ts', 'pid', 'i', 'comm', 'pad']);
      expect(first.comm).toBe(p.comm);
      expect(new Set(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).size).toBe(50_000);
      expect(r.stderr().trimEnd().split('\n').at(-1)).toBe('ringbuf-studio: 50000 events delivered (interrupted), 0 left in the ring, 0 dropped by the program; detached');
      await waitProgramsGone(p.program, 2000);
    } finally {
      account.release();
      r.child.kill('SIGKILL');
    }
  });
});
