import { describe, expect, it } from 'vitest';
import { helperArch, targetKernelProblem } from '../../../../core/transport/ssh/target';

// The inputs have the shape of the helper's HELLO (kernel release, btf, ringbuf):
// old kernels and kernels without BTF cannot be produced on this host, so the
// message logic is checked on its own here.
describe('target kernel checks', () => {
  it('refuses kernels older than 5.8 with the reason and the fix', () => {
    const err = targetKernelProblem({ kernel: '5.4.0-150-generic', btf: true }, 'oldvm');
    expect(err?.code).toBe('EKERNELOLD');
    expect(err?.message).toBe('oldvm runs Linux 5.4.0-150-generic; BPF ring buffers need 5.8 or newer');
    expect(err?.hint).toMatch(/upgrade the kernel/);
    expect(targetKernelProblem({ kernel: '4.19.0', btf: false }, 'x')?.code).toBe('EKERNELOLD');
    expect(targetKernelProblem({ kernel: '6.1.0', btf: true, ringbuf: false }, 'x')?.code).toBe('EKERNELOLD');
  });

  it('refuses kernels without BTF, naming CONFIG_DEBUG_INFO_BTF', () => {
    const err = targetKernelProblem({ kernel: '5.10.0', btf: false }, 'nobtf');
    expect(err?.code).toBe('ENOBTF');
    expect(err?.hint).toContain('CONFIG_DEBUG_INFO_BTF=y');
  });

  it('accepts 5.8 and newer with BTF', () => {
    expect(targetKernelProblem({ kernel: '5.8.0', btf: true }, 'x')).toBeUndefined();
    expect(targetKernelProblem({ kernel: '6.18.44', btf: true, ringbuf: true }, 'x')).toBeUndefined();
  });

  it('maps uname -m names to helper arch names', () => {
    expect(helperArch('x86_64')).toBe('x86_64');
    expect(helperArch('arm64')).toBe('aarch64');
    expect(helperArch('aarch64')).toBe('aarch64');
  });
});

describe('remote probe command', () => {
  it('reports arch, uid, home, kernel, BTF and the cached helper hash in one shell run; a hostile dir stays data', async () => {
    const { execFileSync } = await import('node:child_process');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { remoteProbeCommand } = await import('../../../../core/transport/ssh/target');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-probe-'));
    const marker = path.join(work, 'RAN');
    const dir = path.join(work, "d'$(touch RAN);`touch RAN`");
    fs.mkdirSync(dir);
    const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(dir, `ringbuf-helper-${arch}`), 'x');
    const out = execFileSync('sh', ['-c', remoteProbeCommand(dir, '0.1.0')], { encoding: 'utf8', cwd: work }).split('\n');
    expect(out[0]).toBe(arch === 'arm64' ? 'aarch64' : arch);
    expect(out[1]).toBe(String(process.getuid?.()));
    expect(out[3]).toBe(os.release());
    expect(out[5]).toMatch(fs.existsSync('/sys/kernel/btf/vmlinux') ? /^[0-9a-f]{64}/ : /^-$/);
    expect(out[6]?.startsWith('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881')).toBe(true); // sha256("x")
    expect(fs.existsSync(marker)).toBe(false);
    const none = execFileSync('sh', ['-c', remoteProbeCommand(path.join(work, 'missing'), '0.1.0')], { encoding: 'utf8', cwd: work }).split('\n');
    expect(none[6]).toBe('none');
    fs.rmSync(work, { recursive: true, force: true });
  });
});
