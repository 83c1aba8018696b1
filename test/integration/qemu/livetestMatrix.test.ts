// Issue 14's done-criterion through the CLI: `ringbuf-studio test --target qemu:debian-5.10
// --target qemu:debian-6.12-arm64-16k --target local` runs a template's live tests as a
// matrix — one suite per target, on an x86_64 5.10 kernel, an aarch64 kernel with 16 KiB
// pages (the aarch64 helper, its own vmlinux.h) and this machine — and the JUnit report
// says so; and `run … -- CMD` runs CMD inside a guest. Guests this test boots are stopped after it; running ones are left running.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueKernel, guestStatus, stopGuest } from '../../../core/transport/qemu/index';
import { startChild } from '../../support/child';
import { available } from '../../support/prereq';
import { prepare, root } from '../run/support';

const TARGETS = ['qemu:debian-5.10', 'qemu:debian-6.12-arm64-16k', 'local'];
const ALL_KERNELS = ['qemu:debian-5.10', 'qemu:debian-6.1', 'qemu:debian-6.12', 'qemu:debian-6.12-arm64-16k'];
const kernels = ALL_KERNELS.map((t) => catalogueKernel(t));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-livetest-matrix-'));

describe.skipIf(!available('qemu') || !available('bpf'))('ringbuf-studio test on a matrix of VM kernels and this machine', () => {
  const wereRunning = new Set<string>();

  beforeAll(async () => {
    prepare({ cli: true });
    for (const k of kernels) if ((await guestStatus(k)).state === 'running') wereRunning.add(k.name);
  }, 300_000);
  afterAll(async () => {
    for (const k of kernels) if (!wereRunning.has(k.name)) await stopGuest(k);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  it("the execve template's tests pass on qemu:debian-5.10, qemu:debian-6.12-arm64-16k and local, one JUnit suite each", async () => {
    const junit = path.join(tmp, 'matrix.xml');
    const args = ['test', 'bpf-templates/execve/execve.rbtest.yaml', ...TARGETS.flatMap((t) => ['--target', t]), '--reporter', 'junit', '--output', junit];
    const run = startChild(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: root });
    const code = await run.exited;
    const out = run.stdout();
    expect(code, `${out}\n${run.stderr()}`).toBe(0);
    for (const t of TARGETS) {
      expect(out).toContain(`bpf-templates/execve/execve.rbtest.yaml [${t}]\n ✓ exec of true is seen `);
    }
    expect(out).toMatch(/^1 file on 3 targets, [\d.]+ s: 9 passed, 0 failed$/m);
    execFileSync('xmllint', ['--noout', '--schema', path.join(root, 'test/fixtures/livetest/junit/jenkins-junit.xsd'), junit], { stdio: 'pipe' });
    const xml = fs.readFileSync(junit, 'utf8');
    expect([...xml.matchAll(/<testsuite [^>]*hostname="([^"]+)"/g)].map((m) => m[1])).toEqual(TARGETS);
    expect(xml).toMatch(/<testsuites name="ringbuf-studio test" tests="9" failures="0" errors="0"/);
  }, 600_000);

  it('every template\'s live tests on all four kernels: all pass, but the dynptr template on 5.10, refused before load with "needs 5.19"', async () => {
    const report = path.join(tmp, 'all.json');
    const args = ['test', 'bpf-templates', ...ALL_KERNELS.flatMap((t) => ['--target', t]), '--reporter', 'json', '--output', report];
    const run = startChild(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: root });
    await run.exited;
    const doc = JSON.parse(fs.readFileSync(report, 'utf8')) as {
      suites: Array<{ file: string; target: string; tests: Array<{ name: string; status: string; message?: string; durationMs: number }> }>;
    };
    const templates = fs.readdirSync(path.join(root, 'bpf-templates')).filter((t) => fs.existsSync(path.join(root, 'bpf-templates', t, `${t}.rbtest.yaml`)));
    expect(templates.length).toBeGreaterThanOrEqual(7);
    expect(doc.suites).toHaveLength(templates.length * ALL_KERNELS.length);
    const shown: string[] = [];
    for (const suite of doc.suites) {
      const tooOld = suite.target === 'qemu:debian-5.10' && suite.file.includes('dynptr');
      for (const t of suite.tests) {
        shown.push(`${suite.target} ${path.basename(suite.file)} ${t.name}: ${t.status} ${t.durationMs} ms${t.message ? ` (${t.message})` : ''}`);
        if (tooOld) {
          expect(t.status, t.name).toBe('error');
          expect(t.message).toMatch(/needs Linux 5\.19 or newer, but the target runs 5\.10/);
        } else {
          expect(t.status, `${suite.target} ${suite.file} ${t.name}: ${t.message ?? ''}\n${run.stderr()}`).toBe('passed');
        }
      }
    }
    console.log(shown.join('\n'));
  }, 1_200_000);

  it('run … --target qemu:debian-5.10 -- /bin/true runs the command inside the guest and ends when it exits', async () => {
    const program = path.join(root, 'bpf-templates/execve/execve.bpf.c');
    const run = startChild(process.execPath, [path.join(root, 'dist/cli.js'), 'run', program, '--target', 'qemu:debian-5.10', '--format', 'jsonl', '--', '/bin/true'], { cwd: root });
    const code = await run.exited;
    expect(code, `${run.stdout()}\n${run.stderr()}`).toBe(0);
    const events = run.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => e.comm === 'true' && e.filename === '/bin/true')).toBe(true);
    expect(run.stderr()).toContain('ringbuf-studio: `/bin/true` ended (exit status 0); draining');
  }, 300_000);
});
