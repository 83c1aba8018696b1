// Every kind of bad object, built for real (clang, llvm-objcopy): shared by the unit
// test (lint/build) and the integration test (run).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileFixture, repoRoot } from '../../support/compile';

export interface BadObjects {
  dir: string;
  notElf: string;
  notBpf: string;
  bigEndian: string;
  noDebugInfo: string;
  btfStripped: string;
  truncated: string;
}

/** Writes every kind of bad object into a fresh directory (real clang, real llvm-objcopy). */
export async function makeBadObjects(): Promise<BadObjects> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-badobj-'));
  const src = path.join(repoRoot, 'test/fixtures/run/seed_exec.bpf.c');
  const put = (name: string, bytes: Uint8Array | string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const good = (await compileFixture(src, { name: 'hardening-seed' })).bytes;
  const btfStripped = path.join(dir, 'stripped.bpf.o');
  execFileSync('llvm-objcopy', ['--remove-section', '.BTF', '--remove-section', '.BTF.ext', put('good.bpf.o', good), btfStripped]);
  return {
    dir,
    notElf: put('notes.bpf.o', 'this is a text file, not an object\n'),
    notBpf: put('true.o', fs.readFileSync('/bin/true')),
    bigEndian: put('eb.bpf.o', (await compileFixture(src, { name: 'hardening-seed-eb', target: 'bpfeb' })).bytes),
    noDebugInfo: put('nog.bpf.o', (await compileFixture(src, { name: 'hardening-seed-nog', debugInfo: false })).bytes),
    btfStripped,
    truncated: put('cut.bpf.o', good.subarray(0, 40)),
  };
}

