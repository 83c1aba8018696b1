// The kernel's verifier log of every program in an object, whether it loads or not,
// through test/support/verifierLogLoader.c (libbpf, nothing attached). Until the helper
// reports logs of programs that load (issue 15, phase 2), this is how tests see the
// complexity of a loaded program. Root only.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { VerifierLogParser, type ParsedVerifierLog } from '../../core/verifier/log';
import { repoRoot } from './compile';

const run = promisify(execFile);

let built: Promise<string> | undefined;
/** The loader binary, built once per source version into .cache/test/native/. */
export function verifierLogLoader(): Promise<string> {
  built ??= (async () => {
    const src = path.join(repoRoot, 'test/support/verifierLogLoader.c');
    const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 16);
    const dir = path.join(repoRoot, '.cache/test/native');
    const exe = path.join(dir, `verifier-log-loader-${hash}`);
    if (!fs.existsSync(exe)) {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${exe}.${process.pid}.tmp`;
      await run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', src, '-o', tmp, '-lbpf']);
      fs.renameSync(tmp, exe);
    }
    return exe;
  })();
  return built;
}

export interface ProgramLog {
  name: string;
  section: string;
  /** 0 when the program loaded; -errno otherwise (-ECANCELED: not verified, an earlier program failed). */
  result: number;
  /** The parsed log (streamed: logs of near-limit programs run to hundreds of MiB). */
  parsed: ParsedVerifierLog;
  /** The raw log, kept only when it is under `keepTextBelow` bytes. */
  text?: string;
}

/**
 * Loads `object` with the verifier log at `level` (1, 2, or 4 = statistics only) into a
 * `logMiB` buffer per program. Kernels since 6.4 keep the log's tail when it overflows
 * (the load then fails with ENOSPC, -28: the log, not the program, was too big).
 */
export async function loadWithVerifierLog(object: string, level: number, logMiB: number, keepTextBelow = 4 << 20): Promise<ProgramLog[]> {
  const exe = await verifierLogLoader();
  const child = spawn(exe, [object, String(level), String(logMiB)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: ProgramLog[] = [];
  let current: { name: string; section: string; parser: VerifierLogParser; text: string[]; size: number } | undefined;
  let pending = '';
  let stderr = '';
  const onLine = (line: string): void => {
    const start = /^@@rbs-program (\S+) (\S+)$/.exec(line);
    const end = /^@@rbs-end (\S+) (-?\d+)$/.exec(line);
    if (start) current = { name: start[1]!, section: start[2]!, parser: new VerifierLogParser(), text: [], size: 0 };
    else if (end && current) {
      const text = current.size < keepTextBelow ? current.text.join('') : undefined;
      out.push({ name: current.name, section: current.section, result: Number(end[2]), parsed: current.parser.finish(), ...(text !== undefined ? { text } : {}) });
      current = undefined;
    } else if (current) {
      current.parser.push(`${line}\n`);
      current.size += line.length + 1;
      if (current.size < keepTextBelow) current.text.push(`${line}\n`);
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (pending) onLine(pending);
  if (code === 2 || (out.length === 0 && code !== 0)) throw new Error(`verifier-log-loader ${object} failed (${code}): ${stderr}`);
  return out;
}
