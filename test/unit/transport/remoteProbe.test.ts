// The connect probe (core/transport/remoteHelper.ts): run for real with this machine's
// sh, then fed hostile output — a target's words are data, checked field by field.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProbe, remoteProbeArgv } from '../../../core/transport/remoteHelper';

const token = '0123456789abcdef';
const good = (over: Partial<Record<'arch' | 'uid' | 'home' | 'kernel' | 'btf' | 'btfSha' | 'helperSha', string>> = {}): string =>
  [
    'noise from a chatty .bashrc',
    `rbs-probe-${token}`,
    over.arch ?? 'x86_64',
    over.uid ?? '1000',
    over.home ?? '/home/u',
    over.kernel ?? '6.1.0-47-amd64',
    over.btf ?? 'btf',
    over.btfSha ?? `${'a'.repeat(64)}  -`,
    over.helperSha ?? `${'b'.repeat(64)}  /home/u/.cache/ringbuf-studio/0.1.0/ringbuf-helper-x86_64`,
    '',
  ].join('\n');

describe('remote probe', () => {
  it('reports arch, uid, home, kernel, BTF and the cached helper hash in one shell run; a hostile dir stays data', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-probe-'));
    const marker = path.join(work, 'RAN');
    const dir = path.join(work, "d'$(touch RAN);`touch RAN`");
    fs.mkdirSync(dir);
    const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(dir, `ringbuf-helper-${arch}`), 'x');
    const run = (d: string): string => {
      const [cmd = 'sh', ...args] = remoteProbeArgv(token, d, '0.1.0');
      return execFileSync(cmd, args, { encoding: 'utf8', cwd: work });
    };
    const facts = parseProbe(run(dir), token, 'here');
    expect(facts.arch).toBe(arch === 'arm64' ? 'aarch64' : arch);
    expect(facts.uid).toBe(process.getuid?.());
    expect(facts.kernel).toBe(os.release());
    if (fs.existsSync('/sys/kernel/btf/vmlinux')) expect(facts.btfSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.cachedHelperSha).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881'); // sha256("x")
    expect(fs.existsSync(marker)).toBe(false);
    expect(parseProbe(run(path.join(work, 'missing')), token, 'here').cachedHelperSha).toBe('');
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('ignores what a shell startup file prints before the probe', () => {
    expect(parseProbe(good(), token, 't')).toMatchObject({ arch: 'x86_64', uid: 1000, home: '/home/u', btf: true, btfSha256: 'a'.repeat(64), cachedHelperSha: 'b'.repeat(64) });
  });

  it('refuses a path-traversal arch, naming the target and the value', () => {
    expect(() => parseProbe(good({ arch: 'x86_64/../../../../home/me/.ssh/id_ed25519' }), token, 'vm1')).toThrow(
      "vm1 reports architecture 'x86_64/../../../../home/me/.ssh/id_ed25519' which Ringbuf Studio has no helper for (x86_64, aarch64)",
    );
  });

  it('treats fake hashes as no hash, escapes a kernel release full of escapes, refuses a non-number uid', () => {
    const f = parseProbe(good({ btfSha: '../../etc/passwd', helperSha: `${'a'.repeat(63)}Z  x`, kernel: '6.1\x1b]52;c;cHduZWQ=\x07' }), token, 't');
    expect(f.btfSha256).toBeUndefined();
    expect(f.cachedHelperSha).toBe('');
    expect(f.kernel).toBe('6.1\\x1b]52;c;cHduZWQ=\\x07');
    expect(() => parseProbe(good({ uid: '0; rm -rf /' }), token, 't')).toThrow(/cannot probe t: `id -u` printed '0; rm -rf \/'/);
    expect(() => parseProbe(good({ uid: '9'.repeat(400) }), token, 't')).toThrow(/cannot probe t/);
    expect(() => parseProbe(good({ btf: 'maybe' }), token, 't')).toThrow(/unexpected BTF line/);
  });

  it('without the marker (a shell that did not run it), says so with the output escaped', () => {
    expect(() => parseProbe('\x1b[2Jhello\n', token, 't')).toThrow(/cannot probe t: its shell did not run the probe/);
  });
});
