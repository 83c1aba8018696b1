// Drives the real helper binary through the TS codec: compile fixtures with real
// clang, spawn `ringbuf-helper serve`, wait for typed messages.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FrameDecoder, type HelperMessage } from '../../../core/protocol/helper';

export const root = path.resolve(__dirname, '../../..');
export const helperPath = path.join(root, 'helper/build/ringbuf-helper-x86_64');
export const cacheDir = path.join(root, '.cache/test/helper');

/** Builds the helper (make is incremental) and the fixture include dir once. */
export function prepare(): void {
  execFileSync('make', ['-s', '-C', path.join(root, 'helper')], { stdio: 'inherit' });
  fs.mkdirSync(cacheDir, { recursive: true });
  const vmlinux = path.join(cacheDir, 'vmlinux.h');
  if (!fs.existsSync(vmlinux)) {
    const header = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 256 << 20 });
    fs.writeFileSync(vmlinux, header);
  }
  if (!fs.existsSync(path.join(root, 'dist/include/bpf/bpf_helpers.h'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  }
}

/** Compiles test/fixtures/helper/<name>.bpf.c with real clang; returns the object bytes. */
export function compileFixture(name: string): Uint8Array {
  const src = path.join(root, 'test/fixtures/helper', `${name}.bpf.c`);
  const out = path.join(cacheDir, `${name}.bpf.o`);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', cacheDir, '-I', path.join(root, 'dist/include'), '-c', src, '-o', out]);
  return fs.readFileSync(out);
}

export function fixtureSource(name: string): string {
  return fs.readFileSync(path.join(root, 'test/fixtures/helper', `${name}.bpf.c`), 'utf8');
}

/** Builds a C program from bench/c or test fixtures with gcc into the cache. */
export function compileC(src: string, name: string): string {
  const out = path.join(cacheDir, name);
  execFileSync('gcc', ['-O2', '-Wall', '-o', out, path.join(root, src)]);
  return out;
}

export type Kind = HelperMessage['kind'];
type Of<K extends Kind> = Extract<HelperMessage, { kind: K }>;

/** A running `ringbuf-helper serve`, read through FrameDecoder. */
export class HelperRun {
  readonly messages: HelperMessage[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  eventBytes = 0;
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];
  decodeError: Error | null = null;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.decoder.push(chunk)) {
          if (m.kind === 'events') this.eventBytes += m.records.length;
          this.messages.push(m);
        }
      } catch (err) {
        this.decodeError = err instanceof Error ? err : new Error('undecodable helper output');
      }
      this.wake();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // 'close', not 'exit': 'exit' can come before the last bytes of stdout were read.
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.wake());
  }

  static start(args: string[] = ['serve']): HelperRun {
    return new HelperRun(spawn(helperPath, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(frame: Uint8Array): void {
    this.child.stdin!.write(frame);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for the first message (from `from` on) matching kind and predicate. */
  async next<K extends Kind>(kind: K, pred: (m: Of<K>) => boolean = () => true, timeoutMs = 10_000, from = 0): Promise<Of<K>> {
    const deadline = Date.now() + timeoutMs;
    let exitedAt: number | null = null;
    void this.exited.then(() => (exitedAt = Date.now()));
    for (;;) {
      if (this.decodeError) throw this.decodeError;
      const found = this.messages.slice(from).find((m): m is Of<K> => m.kind === kind && pred(m as Of<K>));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || (exitedAt !== null && Date.now() - exitedAt > 200)) {
        throw new Error(`no '${kind}' message within ${timeoutMs} ms; got ${this.messages.map((m) => m.kind).join(',')}; stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export { loadedPrograms, waitProgramsGone } from '../../support/bpfPrograms';

export function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
}
