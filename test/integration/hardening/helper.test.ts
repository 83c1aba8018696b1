// The real helper (`ringbuf-helper serve`) against hostile input on stdin:
// - it runs only what the protocol allows: every other frame kind is refused with a
//   fatal protocol ERROR, and nothing sent to it is ever executed;
// - mutated frames (20 000 over one long-lived process, 300 fresh processes) end in
//   ERROR frames or a clean exit — never a signal, never a hang, always valid frames.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { encodeLoad, FrameDecoder, FrameKind, type HelperMessage } from '../../../core/protocol/helper';
import { compileFixture } from '../../support/compile';
import { fuzzHelper, helperBinary, helperSeeds, judge, runHelper } from '../../fuzz/helperC';
import { objectSeeds } from '../../fuzz/seeds';
import { parseElf } from '../../../core/elf/elf';
import { available } from '../../support/prereq';

const ALLOWED = new Set<number>([FrameKind.load, FrameKind.start, FrameKind.stop, FrameKind.pause, FrameKind.resume, FrameKind.flush]);

function frame(kind: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(5 + payload.length);
  new DataView(f.buffer).setUint32(0, 1 + payload.length, true);
  f[4] = kind;
  f.set(payload, 5);
  return f;
}

describe('helper runs only what the protocol allows', () => {
  it('is built (make -C helper)', () => {
    expect(fs.existsSync(helperBinary), helperBinary).toBe(true);
  });

  it('refuses every frame kind outside LOAD/START/STOP/PAUSE/RESUME/FLUSH, and executes nothing it is sent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-noexec-'));
    const marker = path.join(dir, 'pwned');
    // Shell text, an ELF-looking blob and a path: whatever the payload, nothing may run it.
    const payloads = [`/bin/sh -c 'touch ${marker}'`, `$(touch ${marker}); touch ${marker}`, `\x7fELF#!/bin/sh\ntouch ${marker}\n`, marker].map((s) => new TextEncoder().encode(s));
    const refused: number[] = [];
    for (let kind = 0; kind < 256; kind++) {
      if (ALLOWED.has(kind)) continue;
      const run = await runHelper([frame(kind, payloads[kind % payloads.length]!)], 10_000);
      const { failure, messages } = judge(run);
      expect(failure, `kind 0x${kind.toString(16)}`).toBeNull();
      const err = messages.find((m): m is Extract<HelperMessage, { kind: 'error' }> => m.kind === 'error');
      expect(err?.error, `kind 0x${kind.toString(16)}`).toMatchObject({ code: 'protocol', fatal: true });
      expect(err?.error.message).toContain(`0x${kind.toString(16).padStart(2, '0')}`);
      expect(run.code).toBe(1);
      refused.push(kind);
    }
    expect(refused).toHaveLength(256 - ALLOWED.size);
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('refuses frames with a zero or oversized length without reading on', async () => {
    for (const length of [0, 0x04000001, 0xffffffff]) {
      const head = new Uint8Array(9);
      new DataView(head.buffer).setUint32(0, length, true);
      head[4] = FrameKind.start;
      const run = await runHelper([head], 10_000);
      const { failure, messages } = judge(run);
      expect(failure).toBeNull();
      expect(messages.find((m) => m.kind === 'error')).toMatchObject({ error: { code: 'protocol', fatal: true } });
    }
  });
});

describe.skipIf(!available('bpf'))('helper frame parser fuzz (real helper, real kernel)', () => {
  it('20 000 mutated frames over one process and 300 fresh processes: 0 crashes, 0 hangs', async () => {
    const seeds = helperSeeds((await objectSeeds())[0]!);
    const r = await fuzzHelper({ frames: 20_000, streams: 1, processes: 300, seed: Number(process.env.FUZZ_SEED ?? 11), seeds, parallel: 2 });
    console.log(`helper-c fuzz: ${r.inputs} inputs (${r.streamFrames} stream frames, ${r.processes} processes) in ${r.seconds.toFixed(1)} s`);
    expect(r.messages, `findings: ${r.findings.join(', ')}`).toEqual([]);
    expect(r.processes).toBe(301);
  }, 300_000);
});

/** Bytes after each BTF type's 12-byte header, by kind (vlen = the type's member count). */
function btfTypeTail(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 8: case 14: case 17: return 4; // INT, VAR, DECL_TAG (and the size field of FLOAT is in the header)
    case 3: return 12; // ARRAY
    case 4: case 5: case 15: case 19: return 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
    case 6: case 13: return 8 * vlen; // ENUM, FUNC_PROTO
    default: return 0;
  }
}

/** The object with its first struct member pointing at a type id the BTF does not have. */
function withDanglingMemberType(object: Uint8Array): Uint8Array {
  const out = new Uint8Array(object);
  const btf = parseElf(out).section('.BTF');
  if (!btf) throw new Error('fixture has no .BTF');
  const v = new DataView(out.buffer, btf.offset, btf.size);
  const hdrLen = v.getUint32(4, true);
  let off = hdrLen + v.getUint32(8, true);
  const end = off + v.getUint32(12, true);
  while (off < end) {
    const info = v.getUint32(off + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if ((kind === 4 || kind === 5) && vlen > 0) {
      v.setUint32(off + 12 + 4, 0x7ff0, true); // member 0: name_off, type, offset
      return out;
    }
    off += 12 + btfTypeTail(kind, vlen);
  }
  throw new Error('fixture has no struct with members');
}

describe.skipIf(!available('bpf'))('objects libbpf 1.1 would trust blindly', () => {
  it('a BTF type that names a type id the BTF does not have: a clear object error, never a crash (found by fuzzing)', async () => {
    const { bytes } = await compileFixture(path.join(__dirname, 'fixtures/huge_verifier_log.bpf.c'), { name: 'huge_verifier_log' });
    const run = await runHelper([encodeLoad({ object: withDanglingMemberType(bytes), attachAll: false, attach: [], overrides: {} })], 30_000);
    const { failure, messages } = judge(run);
    expect(failure).toBeNull();
    const err = messages.find((m): m is Extract<HelperMessage, { kind: 'error' }> => m.kind === 'error');
    expect(err?.error).toMatchObject({ code: 'object', fatal: true });
    expect(err?.error.message).toMatch(/the object's BTF is malformed: type \[\d+\] refers to type 32752 \(its member type\), but the BTF has only \d+ types/);
    expect(run.code).toBe(1);
  });
});

describe.skipIf(!available('bpf'))('a slow reader still gets the whole verifier log', () => {
  it('the helper waits for a reader that pauses 2 s before taking a > 16 MiB ERROR frame', async () => {
    const { bytes } = await compileFixture(path.join(__dirname, 'fixtures/huge_verifier_log.bpf.c'), { name: 'huge_verifier_log' });
    const p = spawn(helperBinary, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdout.pause(); // nobody reads while the helper loads, fails and starts shutting down
    p.stdin.end(encodeLoad({ object: bytes, attachAll: false, attach: [], overrides: {}, logLevel: 2 }));
    await new Promise((r) => setTimeout(r, 2000));
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.stdout.resume();
    const code = await new Promise<number | null>((r) => p.on('close', r));
    const messages = new FrameDecoder().push(Buffer.concat(chunks));
    const err = messages.find((m): m is Extract<HelperMessage, { kind: 'error' }> => m.kind === 'error');
    expect(err?.error.code, messages.map((m) => m.kind).join(',')).toBe('verifier');
    expect(err!.error.log!.length).toBeGreaterThan(16 << 20);
    expect(messages.at(-1)?.kind).toBe('bye');
    expect(code).toBe(1);
  }, 300_000);
});
