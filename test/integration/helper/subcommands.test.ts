// `probe` and `vmlinux-h` against the real kernel: their answers must agree with
// what actually loads and attaches here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { available } from '../../support/prereq';
import { encodeCommand, encodeLoad } from '../../../core/protocol/helper';
import { cacheDir, compileFixture, helperPath, HelperRun, prepare, root } from './support';

interface ProbeJson {
  protocol: number;
  kernel: string;
  arch: string;
  page_size: number;
  btf: boolean;
  ringbuf: boolean;
  features: { prog_types: Record<string, boolean>; attach: Record<string, boolean>; bpf_loop: boolean };
}

describe.skipIf(!available('bpf'))('ringbuf-helper probe and vmlinux-h', () => {
  beforeAll(() => prepare());

  it('probe reports the kernel and attach support that matches real attaches', async () => {
    const probe = JSON.parse(execFileSync(helperPath, ['probe']).toString()) as ProbeJson;
    expect(probe.kernel).toBe(execFileSync('uname', ['-r']).toString().trim());
    expect(probe).toMatchObject({ protocol: 2, arch: 'x86_64', page_size: 4096, btf: true, ringbuf: true });
    expect(Object.keys(probe.features.attach).sort()).toEqual(['fentry', 'kprobe', 'raw_tp', 'tp_btf', 'tracepoint', 'uprobe']);

    const h = HelperRun.start();
    h.send(encodeLoad({ object: compileFixture('attach_fail'), attachAll: true, attach: [], overrides: {} }));
    const { loaded } = await h.next('loaded');
    h.send(encodeCommand('stop'));
    await h.exited;
    const attached = (name: string): boolean | undefined => loaded.programs.find((p) => p.name === name)?.attached;
    expect(probe.features.attach.kprobe).toBe(attached('rbs_t_kprobe'));
    expect(probe.features.attach.fentry).toBe(attached('rbs_t_fentry'));
    expect(probe.features.attach.tracepoint).toBe(attached('rbs_t_works'));
  });

  it('vmlinux-h writes a guarded CO-RE header that builds a program the kernel loads', async () => {
    const dir = path.join(cacheDir, 'ours');
    fs.mkdirSync(dir, { recursive: true });
    const header = execFileSync(helperPath, ['vmlinux-h'], { maxBuffer: 512 << 20 }).toString();
    expect(header.startsWith('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n')).toBe(true);
    expect(header).toContain('#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)');
    expect(header).toMatch(/struct task_struct \{[^}]*\bpid_t tgid;/);
    expect(header).not.toContain('()'); // prototypes without parameters are written (void)
    expect(header.trimEnd().endsWith('#endif /* __VMLINUX_H__ */')).toBe(true);
    fs.writeFileSync(path.join(dir, 'vmlinux.h'), header);
    const out = path.join(dir, 'exec.bpf.o');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', dir, '-I', path.join(root, 'dist/include'), '-c', path.join(root, 'test/fixtures/helper/exec.bpf.c'), '-o', out]);
    const h = HelperRun.start();
    h.send(encodeLoad({ object: fs.readFileSync(out), attachAll: true, attach: [], overrides: {} }));
    expect((await h.next('loaded')).loaded.programs[0]?.attached).toBe(true);
    h.send(encodeCommand('stop'));
    expect((await h.exited).code).toBe(0);
  });

  // The aarch64 build runs under user-mode QEMU: no BPF syscalls there, but BTF → C works.
  const aarch64 = path.join(root, 'helper/build/ringbuf-helper-aarch64');
  const crossReady = fs.existsSync(aarch64) && fs.existsSync('/usr/bin/qemu-aarch64-static');
  if (!crossReady) console.warn('skipping the aarch64 helper check: run bash helper/setup-aarch64.sh && make -C helper aarch64');
  it.skipIf(!crossReady)('the aarch64 build starts and writes the same vmlinux.h as the x86_64 build', () => {
    expect(execFileSync('qemu-aarch64-static', [aarch64, '--version']).toString()).toBe('ringbuf-helper 0.1.0 protocol 2\n');
    const arm = execFileSync('qemu-aarch64-static', [aarch64, 'vmlinux-h'], { maxBuffer: 512 << 20 });
    const x86 = execFileSync(helperPath, ['vmlinux-h'], { maxBuffer: 512 << 20 });
    expect(arm.equals(x86)).toBe(true);
  });

  it('vmlinux-h names the file it cannot read', () => {
    let stderr = '';
    try {
      execFileSync(helperPath, ['vmlinux-h', '/nonexistent/btf'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain('/nonexistent/btf');
  });
});
