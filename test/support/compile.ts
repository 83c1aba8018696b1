// Compiles a BPF C fixture with the real clang, caching the object by content hash
// under .cache/test/objects/ so repeated test runs (and parallel test files) do not
// recompile. A source that includes "vmlinux.h" gets one generated from the running
// kernel's BTF (bpftool) into .cache/test/vmlinux/.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheDir = path.join(repoRoot, '.cache', 'test');

export interface CompileOptions {
  /** Extra -I directories (the source file's own directory is always searched first by clang). */
  includeDirs?: string[];
  /** -D definitions, e.g. { RB_SIZE: '4096' }. */
  defines?: Record<string, string>;
  /** 'bpf' (host order, default), 'bpfel' or 'bpfeb'. */
  target?: 'bpf' | 'bpfel' | 'bpfeb';
  /** Default true. */
  debugInfo?: boolean;
  /** Any further clang arguments. */
  extraArgs?: string[];
  /** Name for the cached object (readability only). */
  name?: string;
}

export interface CompiledFixture {
  objectPath: string;
  bytes: Uint8Array;
  /** The C file that was compiled (a cached copy when the source was given as text). */
  sourcePath: string;
}

/** `cSource` is either C text or a path to a .c file. */
export async function compileFixture(cSource: string, opts: CompileOptions = {}): Promise<CompiledFixture> {
  const isPath = !cSource.includes('\n') && /\.c$/.test(cSource) && fs.existsSync(cSource);
  const text = isPath ? fs.readFileSync(cSource, 'utf8') : cSource;
  const includeDirs = [...(opts.includeDirs ?? [])];
  if (isPath) includeDirs.push(path.dirname(path.resolve(cSource)));
  const distInclude = path.join(repoRoot, 'dist', 'include');
  if (fs.existsSync(path.join(distInclude, 'bpf', 'bpf_helpers.h'))) includeDirs.push(distInclude);
  if (text.includes('vmlinux.h')) includeDirs.push(await ensureVmlinuxHeader());
  // <linux/types.h> needs <asm/types.h>, which lives in the multiarch dir that -target bpf does not search.
  const multiarch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  if (fs.existsSync(path.join(multiarch, 'asm'))) includeDirs.push(multiarch);

  const args = [
    '-O2',
    ...(opts.debugInfo === false ? [] : ['-g']),
    '-target', opts.target ?? 'bpf',
    '-D__TARGET_ARCH_x86',
    '-Wall', '-Wno-unused-function', '-Wno-unused-variable',
    ...Object.entries(opts.defines ?? {}).map(([k, v]) => `-D${k}=${v}`),
    ...includeDirs.flatMap((d) => ['-I', d]),
    ...(opts.extraArgs ?? []),
  ];
  const h = crypto.createHash('sha256').update(text).update('\0').update(args.join('\0'));
  // Local headers next to a fixture file are part of its content.
  if (isPath) for (const hdr of localHeaders(cSource)) h.update(hdr).update(fs.readFileSync(hdr));
  const hash = h.digest('hex').slice(0, 20);
  const dir = path.join(cacheDir, 'objects');
  fs.mkdirSync(dir, { recursive: true });
  const base = `${(opts.name ?? 'fixture').replace(/[^\w.-]/g, '_')}-${hash}`;
  const objectPath = path.join(dir, `${base}.o`);
  const sourcePath = isPath ? path.resolve(cSource) : path.join(dir, `${base}.bpf.c`);
  if (!isPath && !fs.existsSync(sourcePath)) atomicWrite(sourcePath, text);
  if (!fs.existsSync(objectPath)) {
    const tmp = `${objectPath}.${process.pid}.tmp`;
    try {
      await run('clang', [...args, '-c', sourcePath, '-o', tmp]);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`clang failed for fixture ${opts.name ?? sourcePath}:\n${e.stderr ?? e.message}`);
    }
    fs.renameSync(tmp, objectPath);
  }
  return { objectPath, sourcePath, bytes: new Uint8Array(fs.readFileSync(objectPath)) };
}

function localHeaders(cFile: string): string[] {
  const dir = path.dirname(path.resolve(cFile));
  return fs.readdirSync(dir).filter((f) => f.endsWith('.h')).sort().map((f) => path.join(dir, f));
}

/**
 * Compiles and runs a native (host) C program, returning its stdout bytes. Used to let
 * the compiler lay out a record that the decoder must then read back.
 */
export async function runNativeProgram(cFile: string): Promise<Uint8Array> {
  const h = crypto.createHash('sha256').update(fs.readFileSync(cFile));
  for (const hdr of localHeaders(cFile)) h.update(fs.readFileSync(hdr));
  const dir = path.join(cacheDir, 'native');
  fs.mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, `${path.basename(cFile, '.c')}-${h.digest('hex').slice(0, 20)}`);
  if (!fs.existsSync(exe)) {
    const tmp = `${exe}.${process.pid}.tmp`;
    await run('clang', ['-O2', '-Wall', '-Werror', '-I', path.dirname(path.resolve(cFile)), cFile, '-o', tmp]);
    fs.renameSync(tmp, exe);
  }
  const { stdout } = await run(exe, [], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return new Uint8Array(stdout);
}

/** Directory holding vmlinux.h generated from /sys/kernel/btf/vmlinux (cached per BTF size+mtime). */
export async function ensureVmlinuxHeader(): Promise<string> {
  const btfPath = '/sys/kernel/btf/vmlinux';
  const st = fs.statSync(btfPath);
  const dir = path.join(cacheDir, 'vmlinux', `${st.size}`);
  const header = path.join(dir, 'vmlinux.h');
  if (!fs.existsSync(header)) {
    fs.mkdirSync(dir, { recursive: true });
    const { stdout } = await run('bpftool', ['btf', 'dump', 'file', btfPath, 'format', 'c'], { maxBuffer: 256 * 1024 * 1024 });
    atomicWrite(header, stdout);
  }
  return dir;
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
