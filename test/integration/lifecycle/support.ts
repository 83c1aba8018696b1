// The no-loss fixture (test/fixtures/lifecycle/burst.bpf.c) and its books: each test gets its
// own copy with a unique comm and account-map name, a generator that bursts getpid() under that
// comm, and the program's own count of what it committed and failed to reserve, read from the
// kernel by the test itself (the map is pinned while the run lives, so it can be read after the
// helper is gone).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { RunEnd } from '../../../core/run/run';
import { compileFixture } from '../../support/compile';

export const root = path.resolve(__dirname, '../../..');
const fixtureDir = path.join(root, 'test/fixtures/lifecycle');
const bpffs = '/sys/fs/bpf';

export interface LifecycleProgram {
  /** The .bpf.c (in a temp dir) with this run's names defined at the top. */
  source: string;
  dir: string;
  /** The comm the program reacts to (what the generator calls itself). */
  comm: string;
  /** The account map's name: [0] committed, [1] failed reservations. */
  account: string;
  /** Program name prefix (bpftool truncates names). */
  program: string;
  /** Records each getpid() of the generator writes. */
  perCall: number;
  compile(): Promise<Uint8Array>;
  cleanup(): void;
}

/** A private copy of the fixture; `ringBytes` small makes the program drop under a flood. */
export function lifecycleProgram(opts: { perCall?: number; ringBytes?: number } = {}): LifecycleProgram {
  const tag = crypto.randomBytes(4).toString('hex');
  const comm = `lc_${tag}`;
  const account = `lca_${tag}`;
  const perCall = opts.perCall ?? 250;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-lifecycle-'));
  const source = path.join(dir, 'burst.bpf.c');
  const defines = [`#define COMM_TAG "${comm}"`, `#define ACCOUNT ${account}`, `#define PER_CALL ${perCall}`];
  if (opts.ringBytes) defines.push(`#define RING_BYTES ${opts.ringBytes}`);
  fs.writeFileSync(source, `${defines.join('\n')}\n${fs.readFileSync(path.join(fixtureDir, 'burst.bpf.c'), 'utf8')}`);
  return {
    source,
    dir,
    comm,
    account,
    program: 'rbs_lc_burst',
    perCall,
    compile: async () => (await compileFixture(source, { name: `burst-${tag}` })).bytes,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

let generator: string | undefined;

/** The burst generator (test/fixtures/lifecycle/burst.c), built once. */
export function generatorPath(): string {
  if (generator) return generator;
  const dir = path.join(root, '.cache/test/lifecycle');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'burst');
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', out, path.join(fixtureDir, 'burst.c')]);
  generator = out;
  return out;
}

/** Calls getpid() `calls` times under `comm` (repeating for `seconds` when given); resolves when it exits. */
export function burst(comm: string, calls: number, seconds?: number): { child: ChildProcess; done: Promise<void> } {
  const child = spawn(generatorPath(), [String(calls), comm, ...(seconds ? [String(seconds)] : [])], { stdio: 'ignore' });
  return { child, done: new Promise((resolve) => child.on('exit', () => resolve())) };
}

export interface Books {
  committed: number;
  failed: number;
}

interface BpftoolMap {
  id: number;
  name?: string;
}

/**
 * Pins the program's account map as soon as it exists, so the test can read it after the
 * helper closed everything. `read()` gives the program's own count; `release()` unpins.
 */
export async function pinAccount(account: string, withinMs = 30_000): Promise<{ read: () => Books; release: () => void }> {
  const pin = path.join(bpffs, account);
  const deadline = Date.now() + withinMs;
  for (;;) {
    const maps = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j'], { maxBuffer: 64 << 20 }).toString()) as BpftoolMap[];
    const found = maps.find((m) => m.name === account);
    if (found) {
      execFileSync('bpftool', ['map', 'pin', 'id', String(found.id), pin]);
      break;
    }
    if (Date.now() > deadline) throw new Error(`the account map ${account} did not appear within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    read: () => {
      const entries = JSON.parse(execFileSync('bpftool', ['map', 'dump', 'pinned', pin, '-j']).toString()) as Array<{ key: string[]; value: string[] }>;
      const value = (k: number): number => {
        const e = entries.find((x) => Number(x.key[0]) === k);
        if (!e) throw new Error(`account map has no key ${k}`);
        return Number(e.value.reduceRight((n, b) => n * 256n + BigInt(Number(b)), 0n));
      };
      return { committed: value(0), failed: value(1) };
    },
    release: () => fs.rmSync(pin, { force: true }),
  };
}

/** The books balance: every committed record is delivered, past the count, or left in the ring. */
export function expectBalanced(end: RunEnd, books: Books): void {
  expect(end.leftInRing, end.message).not.toBeNull();
  expect(end.delivered + end.notDeliveredAfterCount + end.leftInRing!, end.message).toBe(books.committed);
  expect(end.droppedByProgram, end.message).toBe(books.failed);
  expect(end.targets.every((t) => t.final)).toBe(true);
}
