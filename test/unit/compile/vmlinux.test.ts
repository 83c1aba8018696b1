// vmlinux.h: generated from the real kernel BTF, cached by release + BTF hash; a
// stale vmlinux.h next to a program is reported on its #include line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileBpf, STALE_VMLINUX_CODE } from '../../../core/compile/build';
import { ensureVmlinuxHeader, libbpfIncludeDir } from '../../../core/compile/vmlinux';
import { generateVmlinuxHeaderText } from '../../../core/transport/localVmlinux';
import { copyFixture, lineOf, tempDir } from './helpers';

const hasBtf = fs.existsSync('/sys/kernel/btf/vmlinux');
if (!hasBtf) console.warn('skipping vmlinux.h generation tests: no /sys/kernel/btf/vmlinux on this machine');

describe.skipIf(!hasBtf)('ensureVmlinuxHeader', () => {
  const tmp = tempDir('vmlinux-cache');
  afterAll(() => tmp.cleanup());

  it('generates once, then hits the cache (same folder, generator not called again)', async () => {
    let calls = 0;
    const counting = (btfPath: string): Promise<string> => {
      calls++;
      return generateVmlinuxHeaderText(btfPath); // the real default generator (bpftool or the helper)
    };
    const first = await ensureVmlinuxHeader({ cacheDir: tmp.dir, generate: counting });
    expect(first.cached).toBe(false);
    expect(first.kernelRelease).toBe(os.release());
    expect(first.btfHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.dir.startsWith(tmp.dir)).toBe(true);
    const header = fs.readFileSync(path.join(first.dir, 'vmlinux.h'), 'utf8');
    expect(header).toMatch(/struct task_struct \{/);
    expect(header).toMatch(/struct trace_event_raw_sched_process_exec \{/);

    const second = await ensureVmlinuxHeader({ cacheDir: tmp.dir, generate: counting });
    expect(second).toEqual({ ...first, cached: true });
    expect(calls).toBe(1);
  });

  it('another kernel release or BTF hash gets its own entry', async () => {
    const gen = (): Promise<string> => Promise.resolve('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\nstruct task_struct { int pid; };\n#endif\n');
    const a = await ensureVmlinuxHeader({ cacheDir: tmp.dir, generate: gen, kernelRelease: '5.15.0-test', btfHash: 'a'.repeat(64) });
    const b = await ensureVmlinuxHeader({ cacheDir: tmp.dir, generate: gen, kernelRelease: '5.15.0-test', btfHash: 'b'.repeat(64) });
    expect(a.cached).toBe(false);
    expect(b.cached).toBe(false);
    expect(a.dir).not.toBe(b.dir);
    expect(a.dir).toContain('5.15.0-test');
  });

  it('a generator returning garbage is an error, and nothing is cached', async () => {
    const bad = (): Promise<string> => Promise.resolve('Error: not BTF');
    const opts = { cacheDir: tmp.dir, generate: bad, kernelRelease: 'bad-1', btfHash: 'c'.repeat(64) };
    await expect(ensureVmlinuxHeader(opts)).rejects.toMatchObject({ code: 'EVMLINUX' });
    await expect(ensureVmlinuxHeader(opts)).rejects.toMatchObject({ code: 'EVMLINUX' });
  });

  it('a missing BTF file names the kernel option', async () => {
    await expect(ensureVmlinuxHeader({ cacheDir: tmp.dir, btfPath: '/nonexistent/btf' })).rejects.toMatchObject({
      code: 'ENOBTF',
      hint: expect.stringContaining('CONFIG_DEBUG_INFO_BTF'),
    });
  });
});

describe('libbpfIncludeDir', () => {
  it('points at the bundled libbpf headers', () => {
    expect(fs.existsSync(path.join(libbpfIncludeDir(), 'bpf', 'bpf_helpers.h'))).toBe(true);
  });
});

describe.skipIf(!hasBtf)('stale vmlinux.h next to the program', () => {
  const tmp = tempDir('stale');
  let file: string;
  let text: string;
  let realHeader: string;
  let targetDir: string;

  beforeAll(async () => {
    file = copyFixture('seed.bpf.c', tmp.dir);
    text = fs.readFileSync(file, 'utf8');
    targetDir = (await ensureVmlinuxHeader()).dir;
    realHeader = fs.readFileSync(path.join(targetDir, 'vmlinux.h'), 'utf8');
  });
  afterAll(() => tmp.cleanup());

  it('an identical copy is fine: no warning', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'vmlinux.h'), realHeader);
    const r = await compileBpf({ file, outFile: path.join(tmp.dir, 'same.o'), eventTypeAnchors: false });
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((d) => d.code === STALE_VMLINUX_CODE)).toEqual([]);
  });

  it('a different one wins by default, and the warning sits on the #include line saying so', async () => {
    // An older header: the real one minus one struct this program does not use.
    fs.writeFileSync(path.join(tmp.dir, 'vmlinux.h'), realHeader.replace(/struct trace_event_raw_sched_process_exec \{[^}]*\};/, ''));
    const r = await compileBpf({ file, outFile: path.join(tmp.dir, 'stale.o') });
    expect(r.ok).toBe(true);
    const w = r.diagnostics.find((d) => d.code === STALE_VMLINUX_CODE);
    expect(w).toMatchObject({ file, line: lineOf(text, '#include "vmlinux.h"'), column: 1, severity: 'warning' });
    expect(w?.message).toMatch(/differs .* and wins/);
    expect(w?.message).toContain('Generate vmlinux.h');
  });

  it('with an explicit target header, the target header is forced over the local one', async () => {
    const poisoned = '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n#error stale local vmlinux.h was used\n#endif\n';
    fs.writeFileSync(path.join(tmp.dir, 'vmlinux.h'), poisoned);

    // Plain default build: the local file wins, so its #error fires (this is the trap).
    const trapped = await compileBpf({ file, outFile: path.join(tmp.dir, 'trap.o') });
    expect(trapped.ok).toBe(false);
    expect(trapped.diagnostics.some((d) => d.message.includes('stale local vmlinux.h was used'))).toBe(true);

    const forced = await compileBpf({ file, outFile: path.join(tmp.dir, 'forced.o'), vmlinuxHeaderDir: targetDir });
    expect(forced.ok).toBe(true);
    expect(forced.command).toEqual(expect.arrayContaining(['-include', path.join(targetDir, 'vmlinux.h')]));
    const w = forced.diagnostics.find((d) => d.code === STALE_VMLINUX_CODE);
    expect(w).toMatchObject({ line: lineOf(text, '#include "vmlinux.h"'), severity: 'warning' });
    expect(w?.message).toContain('forces the target');
  });
});
