// `ringbuf-studio run <file.bpf.c|.o> [--target T]… [--max-entries MAP=N]… [--count N]
//  [--duration S] [--format jsonl] [--attach PROG]… [--accept-new-host-key]`
// Events on stdout (JSON lines, or aligned columns), stats and logs on stderr.
// Failures print like a compiler (`file:line:col: error: …`) and exit 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import { argReader } from '../args';
import { compileDecoder, eventToJson, type Column, type EventDecoder } from '../../core/decode/decode';
import type { EventLayout, FieldType } from '../../core/decode/layout';
import type { Diagnostic } from '../../core/diagnostics';
import type { Stats } from '../../core/protocol/helper';
import { describeBooks } from '../../core/run/account';
import { parseOverride } from '../../core/run/overrides';
import { RunError, startRun, type RunEnd } from '../../core/run/run';
import { verifierLogExcerpt } from '../../core/verifier/diagnostics';
import type { RecordBatch } from '../../core/session/types';
import { LOCAL_TARGET, type ConnectTargetOptions } from '../../core/transport/registry';
import { describeError, StudioError } from '../../core/util/errors';

const usage = `usage: ringbuf-studio run <file.bpf.c|file.o> [options]

Builds (for a .bpf.c), loads and attaches the program on each target and prints
the events its ring buffers deliver, decoded with field names from BTF.

options:
  --target T             local (default), an ~/.ssh/config alias, user@host[:port], or a VM
                         kernel such as qemu:debian-5.10 (ringbuf-studio vm list); repeat for several
  --max-entries MAP=N    override a map's max_entries at load (rings: power of two × page size); repeatable
  --count N              stop after N events
  --duration S           stop after S seconds
  --format jsonl|text    jsonl: one JSON object per event; text (default): aligned columns
  --attach PROG          attach only this program (repeatable; default: all)
  --accept-new-host-key  trust an SSH host key seen for the first time (it is saved to known_hosts)
  --no-lint              load even when the ring buffer linter reports errors
  --helper PATH          the local ringbuf-helper binary to use
  --quiet                no periodic stats on stderr
  --verbose              libbpf's info messages and connection details on stderr

Stops on --count/--duration or Ctrl-C and detaches everything.
exit status: 0 when stopped normally, 1 on failure, 2 for bad arguments.`;

export interface TargetArgs {
  targets: string[];
  acceptNewHostKey: boolean;
  helperPath?: string;
  verbose: boolean;
}

interface RunArgs extends TargetArgs {
  file: string;
  maxEntries: Record<string, number>;
  count?: number;
  durationMs?: number;
  format: 'jsonl' | 'text';
  attach: string[];
  lint: boolean;
  quiet: boolean;
}

/** Handles the options every target-taking command shares; false when `flag` is not one. */
export function takeTargetArg(out: TargetArgs, flag: string, value: () => string): boolean {
  switch (flag) {
    case '--target':
    case '-t':
      out.targets.push(value());
      return true;
    case '--accept-new-host-key':
      out.acceptNewHostKey = true;
      return true;
    case '--helper':
      out.helperPath = value();
      return true;
    case '--verbose':
    case '-v':
      out.verbose = true;
      return true;
    default:
      return false;
  }
}

function parseArgs(argv: string[]): RunArgs {
  const out: RunArgs = { file: '', targets: [], acceptNewHostKey: false, verbose: false, maxEntries: {}, format: 'text', attach: [], lint: true, quiet: false };
  const r = argReader(argv);
  for (let a = r.next(); a; a = r.next()) {
    if (takeTargetArg(out, a.flag, a.value)) continue;
    switch (a.flag) {
      case '--max-entries': {
        let parsed: [string, number];
        try {
          parsed = parseOverride(a.value());
        } catch (err) {
          throw new CliUsageError(err instanceof Error ? err.message : String(err));
        }
        out.maxEntries[parsed[0]] = parsed[1];
        break;
      }
      case '--count': {
        const v = a.value();
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n <= 0) throw new CliUsageError(`--count ${v}: expected a positive whole number`);
        out.count = n;
        break;
      }
      case '--duration': {
        const v = a.value();
        const s = Number(v.replace(/s$/, ''));
        if (!Number.isFinite(s) || s <= 0) throw new CliUsageError(`--duration ${v}: expected seconds, e.g. 5 or 0.5`);
        out.durationMs = Math.round(s * 1000);
        break;
      }
      case '--format': {
        const f = a.value();
        if (f !== 'jsonl' && f !== 'text' && f !== 'json') throw new CliUsageError(`--format ${f}: expected jsonl or text`);
        out.format = f === 'text' ? 'text' : 'jsonl';
        break;
      }
      case '--attach':
        out.attach.push(a.value());
        break;
      case '--no-lint':
        out.lint = false;
        break;
      case '--quiet':
      case '-q':
        out.quiet = true;
        break;
      default:
        if (a.flag.startsWith('-') && a.flag !== '-') throw new CliUsageError(`unknown option ${a.raw}`);
        if (out.file) throw new CliUsageError(`one program at a time (got ${out.file} and ${a.raw})`);
        out.file = a.raw;
    }
  }
  if (!out.file) throw new CliUsageError('no program given (a .bpf.c or .o file)');
  if (out.targets.length === 0) out.targets.push(LOCAL_TARGET);
  return out;
}

/** Connection options for the CLI: no prompts; a new host key only with --accept-new-host-key. */
export function cliConnectOptions(args: TargetArgs, io: CliIo): ConnectTargetOptions {
  return {
    signal: io.signal,
    ...(args.helperPath ? { helperPath: args.helperPath } : {}),
    qemu: { log: (msg) => io.stderr(`ringbuf-studio: ${msg}\n`) }, // downloads and boots take seconds: say so
    confirmHostKey: (info) => {
      if (args.acceptNewHostKey) {
        io.stderr(`ringbuf-studio: trusting new ${info.keyType} host key for ${info.host}:${info.port} (${info.fingerprint}); saved to known_hosts\n`);
        return Promise.resolve(true);
      }
      io.stderr(
        `ringbuf-studio: ${info.host}:${info.port} presents an unknown ${info.keyType} host key ${info.fingerprint}\n` +
          `  check it with the host's administrator, then re-run with --accept-new-host-key (or add it with ssh-keyscan / ssh)\n`,
      );
      return Promise.resolve(false);
    },
    ...(args.verbose ? { log: (level, msg) => io.stderr(`ringbuf-studio: [${level}] ${msg}\n`) } : {}),
  };
}

/** `file:line:col: error: message [code]` with the path relative to cwd, then the log excerpt for verifier errors. */
export function printDiagnostics(diags: readonly Diagnostic[], io: CliIo): void {
  for (const d of diags) {
    const file = path.isAbsolute(d.file) ? path.relative(io.cwd, d.file) || d.file : d.file;
    const sev = d.severity === 'information' || d.severity === 'hint' ? 'note' : d.severity;
    io.stderr(`${file.startsWith('..') ? d.file : file}:${d.line}:${d.column}: ${sev}: ${d.message} [${d.code}]\n`);
    for (const r of d.related ?? []) {
      const rf = path.isAbsolute(r.file) ? path.relative(io.cwd, r.file) || r.file : r.file;
      io.stderr(`${rf.startsWith('..') ? r.file : rf}:${r.range.line}:${r.range.column}: note: ${r.message}\n`);
    }
    if (d.code === 'verifier' && d.detail) {
      io.stderr(`verifier log (last lines; ${saveVerifierLog(d.detail)}):\n${indent(verifierLogExcerpt(d.detail))}\n`);
    } else if (d.code === 'attach' && d.detail) {
      io.stderr(`  ${d.detail}\n`);
    }
  }
}

/**
 * A terminal cannot show a multi-megabyte verifier log: the whole log goes to a private
 * file (0600 in a fresh 0700 directory) and the excerpt names it.
 */
function saveVerifierLog(log: string): string {
  const lines = log.split('\n').length;
  const size = log.length >= 1 << 20 ? `${(log.length / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(log.length / 1024)} KiB`;
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringbuf-studio-verifier-'));
    const file = path.join(dir, 'verifier.log');
    fs.writeFileSync(file, log, { mode: 0o600 });
    return `full log, ${lines} lines, ${size}: ${file}`;
  } catch (err) {
    return `the full log (${lines} lines) could not be saved: ${describeError(err)}`;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}

function printFailure(err: unknown, io: CliIo): void {
  if (err instanceof RunError && err.diagnostics.length) {
    printDiagnostics(err.diagnostics, io);
    io.stderr(`ringbuf-studio run: ${err.message}\n`);
    if (err.hint) io.stderr(`  hint: ${err.hint}\n`);
    if (err.stage === 'build' && !err.diagnostics.some((d) => d.severity === 'error') && err.detail) io.stderr(`${err.detail}\n`);
    return;
  }
  io.stderr(`ringbuf-studio run: ${describeError(err)}\n`);
}

// ───────────────────────────── output ─────────────────────────────

interface MapOutput {
  decoder: EventDecoder | undefined;
  columns: Column[];
  widths: number[];
  headerDone: boolean;
  hinted: boolean;
}

/** Display width for a column from its type: digits of the largest value, the char array's length, … */
function columnWidth(name: string, t: FieldType): number {
  let w: number;
  switch (t.kind) {
    case 'int':
      w = t.bool ? 5 : Math.ceil(t.size * 8 * Math.log10(2)) + (t.signed ? 1 : 0);
      break;
    case 'enum':
      w = Math.max(...t.values.map((v) => v.name.length), 4);
      break;
    case 'array':
      w = t.elem.kind === 'int' && t.elem.size === 1 && t.elem.char ? Math.min(t.count, 32) : 16;
      break;
    case 'ptr':
      w = 18;
      break;
    case 'float':
      w = 12;
      break;
    default:
      w = 16;
  }
  return Math.max(name.length, Math.min(w, 20));
}

function isNumeric(c: Column): boolean {
  return c.kind === 'int' || c.kind === 'float';
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

class EventPrinter {
  private readonly maps = new Map<string, MapOutput>();
  constructor(
    private readonly io: CliIo,
    private readonly format: 'jsonl' | 'text',
    layouts: Map<string, EventLayout | null>,
    private readonly multiHost: boolean,
    private readonly hostWidth: number,
  ) {
    for (const [map, layout] of layouts) {
      const decoder = layout ? compileDecoder(layout) : undefined;
      const columns = decoder?.columns ?? [];
      this.maps.set(map, { decoder, columns, widths: columns.map((c) => columnWidth(c.name, c.type)), headerDone: false, hinted: false });
    }
  }

  private get multiMap(): boolean {
    return this.maps.size > 1;
  }

  print(b: RecordBatch): void {
    let out = this.maps.get(b.map);
    if (!out) {
      out = { decoder: undefined, columns: [], widths: [], headerDone: false, hinted: false };
      this.maps.set(b.map, out);
    }
    if (!out.decoder && !out.hinted) {
      out.hinted = true;
      this.io.stderr(
        `ringbuf-studio: events of ring '${b.map}' have no known type; printing them as hex.\n` +
          `  hint: declare it: reserve with sizeof(struct X) (or sizeof(*p) with p a struct X *), or add __type(value, struct X) / btf_decl_tag("event_type:X") to the map\n`,
      );
    }
    const lines: string[] = [];
    if (this.format === 'text' && !out.headerDone) {
      out.headerDone = true;
      lines.push(this.prefixHeader(b.map) + (out.decoder ? out.columns.map((c, i) => this.pad(c.name, out.widths[i] ?? 0, i, out.columns.length, isNumeric(c))).join('  ') : 'size  data'));
    }
    for (let i = 0; i < b.count; i++) {
      const off = b.offsets[i] ?? 0;
      const len = b.lengths[i] ?? 0;
      if (this.format === 'jsonl') {
        const head: Record<string, unknown> = {};
        if (this.multiHost) head.host = b.host;
        if (this.multiMap) head.map = b.map;
        const body = out.decoder ? (eventToJson(out.decoder.decode(b.data, off, len)) as Record<string, unknown>) : { size: len, hex: hex(b.data.subarray(off, off + len)) };
        lines.push(JSON.stringify(Object.keys(head).length ? { ...head, ...body } : body));
      } else {
        const prefix = this.prefix(b.host, b.map);
        if (out.decoder) {
          const ev = out.decoder.decode(b.data, off, len);
          const cells = out.columns.map((c, j) => this.pad(c.format(c.get(ev)), out.widths[j] ?? 0, j, out.columns.length, isNumeric(c)));
          lines.push(prefix + cells.join('  '));
        } else {
          lines.push(`${prefix}${String(len).padStart(4)}  ${hex(b.data.subarray(off, off + len))}`);
        }
      }
    }
    if (lines.length) this.io.stdout(lines.join('\n') + '\n');
  }

  private pad(text: string, width: number, index: number, count: number, right = false): string {
    // Control characters from event data would move the cursor: show them escaped.
    // eslint-disable-next-line no-control-regex
    const safe = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    if (index === count - 1 && !right) return safe;
    return right ? safe.padStart(width) : safe.padEnd(width);
  }

  private prefix(host: string, map: string): string {
    return (this.multiHost ? `${host.padEnd(this.hostWidth)}  ` : '') + (this.multiMap ? `${map}  ` : '');
  }

  private prefixHeader(map: string): string {
    return (this.multiHost ? `${'HOST'.padEnd(this.hostWidth)}  ` : '') + (this.multiMap ? `${map}  ` : '');
  }
}

/** Sums what the stats say about drops: the program's own counters. */
function drops(s: Stats): number {
  return s.counters.reduce((n, c) => n + c.value, 0);
}

function formatStats(target: string, s: Stats, multi: boolean): string {
  const size = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
  const rings = s.rings.map((r) => `${r.name}: ${r.records} events, ${size(r.bytes)}, fill ${(r.fill * 100).toFixed(1)}%`).join('; ');
  const d = s.counters.length ? `, drops ${drops(s)}` : '';
  return `ringbuf-studio: ${multi ? `${target}: ` : ''}${rings || 'no rings'}${d}${s.paused ? ' (paused)' : ''}\n`;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  // `run … | head -3`: the reader went away; stop cleanly instead of dying on EPIPE.
  const stdoutGone = new AbortController();
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') stdoutGone.abort();
  };
  process.stdout.on('error', onStdoutError);
  try {
    return await runWith(args, io, stdoutGone.signal);
  } finally {
    process.stdout.off('error', onStdoutError);
  }
}

async function runWith(args: RunArgs, io: CliIo, stdoutGone: AbortSignal): Promise<number> {
  const file = path.resolve(io.cwd, args.file);
  const multi = args.targets.length > 1;
  const lastStats = new Map<string, { stats: Stats; printedAt: number }>();
  const view: { printer?: EventPrinter } = {};
  const pending: RecordBatch[] = [];
  let held: string[] | undefined = [];
  let handle;
  try {
    handle = await startRun({
      file,
      targets: args.targets,
      maxEntries: args.maxEntries,
      attach: args.attach,
      lint: args.lint,
      signal: AbortSignal.any([io.signal, stdoutGone]),
      connect: cliConnectOptions(args, io),
      ...(args.count !== undefined ? { count: args.count } : {}),
      ...(args.durationMs !== undefined ? { durationMs: args.durationMs } : {}),
      ...(args.helperPath ? { helperPath: args.helperPath } : {}),
      listeners: {
        // Batches can arrive before startRun returns the layouts: hold them briefly.
        batch: (b) => {
          if (stdoutGone.aborted) return;
          if (view.printer) view.printer.print(b);
          else pending.push(b);
        },
        stats: (target, s) => {
          const prev = lastStats.get(target);
          const now = Date.now();
          const show = !args.quiet && (!prev || now - prev.printedAt >= 2000);
          lastStats.set(target, { stats: s, printedAt: show ? now : (prev?.printedAt ?? 0) });
          if (show && s.rings.some((r) => r.records > 0)) io.stderr(formatStats(target, s, multi));
        },
        log: (target, level, text) => {
          if (level === 'debug' || (level === 'info' && !args.verbose)) return;
          const line = `ringbuf-studio: ${multi ? `${target}: ` : ''}${level === 'warn' ? '' : `${level}: `}${text}\n`;
          // libbpf's load-failure lines repeat what the diagnostics say: hold them until we know.
          if (held && !args.verbose) held.push(line);
          else io.stderr(line);
        },
        diagnostics: (d) => printDiagnostics(d, io),
        state: (state, detail) => {
          if (args.verbose) io.stderr(`ringbuf-studio: ${state}${detail ? ` (${detail})` : ''}\n`);
        },
      },
    });
  } catch (err) {
    if (!(err instanceof RunError && err.diagnostics.length) && held) for (const l of held) io.stderr(l);
    held = undefined;
    if (io.signal.aborted) {
      io.stderr('ringbuf-studio run: cancelled\n');
      return 130;
    }
    printFailure(err, io);
    return 1;
  }
  // libbpf's lines about programs the kernel refused repeat the attach diagnostics above.
  if (!handle.diagnostics.some((d) => d.code === 'attach')) for (const l of held ?? []) io.stderr(l);
  held = undefined;
  const printer = new EventPrinter(io, args.format, handle.layouts, multi, Math.max(4, ...args.targets.map((t) => t.length)));
  view.printer = printer;
  for (const b of pending.splice(0)) printer.print(b);
  const attached = [...handle.loaded].map(([t, l]) => `${multi ? `${t}: ` : ''}${l.programs.filter((p) => p.attached).map((p) => `${p.name} → ${p.section}`).join(', ')}`);
  if (!args.quiet) io.stderr(`ringbuf-studio: attached ${attached.join('; ')}${args.count ? `; stopping after ${args.count} events` : ''}${args.durationMs ? `; stopping after ${args.durationMs / 1000} s` : ''} (Ctrl-C stops)\n`);
  const end: RunEnd = await handle.done;
  if (!args.quiet) for (const [t, { stats }] of lastStats) io.stderr(formatStats(t, stats, multi));
  const failed = end.reason === 'helper-exited' || end.reason === 'connection-lost';
  // The books: what was delivered, left in a ring, dropped by the program (per target when several).
  if (multi) for (const t of end.targets) io.stderr(`ringbuf-studio: ${t.target}: ${describeBooks(t, '')}\n`);
  io.stderr(`ringbuf-studio: ${failed ? 'error: ' : ''}${end.message}; detached\n`);
  return failed ? 1 : 0;
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'load a program on targets and print its ring buffer events',
  usage,
  run: async (argv, io) => {
    try {
      return await run(argv, io);
    } catch (err) {
      if (err instanceof StudioError && err.code === 'EUSAGE') throw new CliUsageError(err.message);
      throw err;
    }
  },
};
