// The initramfs writer, read back by the real cpio tool (GNU cpio, from setup's test profile):
// files with their modes, directories, symlinks, all owned by root.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCpio } from '../../../../core/transport/qemu/cpio';

describe('newc cpio archive', () => {
  it('unpacks with cpio into the same tree', () => {
    const archive = buildCpio([
      { path: 'usr', type: 'dir', mode: 0o755 },
      { path: 'usr/bin', type: 'dir', mode: 0o755 },
      { path: 'usr/bin/tool', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
      { path: 'bin', type: 'symlink', target: 'usr/bin' },
      { path: 'root', type: 'dir', mode: 0o700 },
      { path: 'etc', type: 'dir', mode: 0o755 },
      { path: 'etc/odd', type: 'file', mode: 0o600, data: Buffer.from('abc') }, // 3 bytes: padding
    ]);
    expect(archive.length % 4).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-cpio-'));
    try {
      const r = spawnSync('cpio', ['-i', '-d', '-m'], { cwd: dir, input: archive });
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'usr/bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(fs.statSync(path.join(dir, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
      expect(fs.readlinkSync(path.join(dir, 'bin'))).toBe('usr/bin');
      expect(fs.readFileSync(path.join(dir, 'bin/tool'), 'utf8')).toContain('echo hi');
      expect(fs.statSync(path.join(dir, 'root')).mode & 0o777).toBe(0o700);
      expect(fs.readFileSync(path.join(dir, 'etc/odd'), 'utf8')).toBe('abc');
      const list = spawnSync('cpio', ['-t', '-v'], { input: archive }).stdout.toString();
      expect(list).toMatch(/root\s+root/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
