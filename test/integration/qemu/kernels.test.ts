// The kernel matrix: every built-in VM target (qemu:debian-5.10, -6.1, -6.12, -6.12-arm64-16k)
// booted from Debian's own packages and used the way a user does — every template built
// against the guest's vmlinux.h, loaded, attached and delivering decoded events from a
// trigger run inside the guest; kprobe and fentry (which this host refuses); verifier
// rejections on the right line; the 16 KiB-page guest's ring sizes. One boot per kernel,
// kernels one after another (TCG on 2 cores), each stopped at the end of its block.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedEvent } from '../../../core/decode/decode';
import { RunError, startRun } from '../../../core/run/run';
import { probeTarget } from '../../../core/session/oneShot';
import { listTemplates } from '../../../core/templates';
import { CATALOGUE, catalogueKernel } from '../../../core/transport/qemu/catalogue';
import { stopGuest } from '../../../core/transport/qemu/machine';
import { effectiveRingSize } from '../../../core/lint/ringSize';
import { available } from '../../support/prereq';
import { connectTestGuest, triggerUntil, type TestGuest } from '../../support/vm';
import { collect, prepare, root } from '../run/support';

const qemuFixture = (name: string): string => path.join(root, 'test/fixtures/qemu', name);
const runFixture = (name: string): string => path.join(root, 'test/fixtures/run', name);
const lineOf = (file: string, marker: string): number => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

/** A one-ring exec tracer with the given max_entries expression (for page-size cases). */
function ringProgram(dir: string, sizeExpr: string): string {
  const file = path.join(dir, `ring_${crypto.createHash('sha256').update(sizeExpr).digest('hex').slice(0, 8)}.bpf.c`);
  fs.writeFileSync(file, [
    '#include "vmlinux.h"',
    '#include <bpf/bpf_helpers.h>',
    'struct sized_event { __u32 pid; char comm[16]; };',
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_RINGBUF);',
    `\t__uint(max_entries, ${sizeExpr});`,
    '} sized_ring SEC(".maps");',
    'SEC("tp/sched/sched_process_exec")',
    'int rbs_sized(void *ctx)',
    '{',
    '\tstruct sized_event *e = bpf_ringbuf_reserve(&sized_ring, sizeof(*e), 0);',
    '\tif (!e)',
    '\t\treturn 0;',
    '\te->pid = bpf_get_current_pid_tgid() >> 32;',
    '\tbpf_get_current_comm(e->comm, sizeof(e->comm));',
    '\tbpf_ringbuf_submit(e, 0);',
    '\treturn 0;',
    '}',
    'char LICENSE[] SEC("license") = "GPL";',
    '',
  ].join('\n'));
  return file;
}

const has = (e: DecodedEvent | undefined, pids: ReadonlySet<number>): boolean => e !== undefined && pids.has(Number(e.pid));

/** Types a line into an interactive bash in the guest until readline() returns it (`-o emacs`: line editing, so readline, even without a terminal). */
async function typeIntoGuestBash(target: TestGuest['target'], typed: string, events: () => Array<DecodedEvent | undefined>): Promise<DecodedEvent | undefined> {
  const end = Date.now() + 45_000;
  const typedLine = (e: DecodedEvent | undefined): boolean => typeof e?.line === 'string' && e.line.includes(typed);
  while (Date.now() < end && !events().some(typedLine)) {
    const bash = await target.spawnCommand(['bash', '--norc', '--noprofile', '-i', '-o', 'emacs']);
    bash.stdout.resume();
    bash.stderr.resume();
    bash.stdin.end(`echo ${typed}\nexit\n`);
    await Promise.race([bash.exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
  return events().find(typedLine);
}

describe.skipIf(!available('qemu'))('built-in VM kernels', () => {
  let work: string;
  beforeAll(() => {
    prepare(); // helpers (both arches are built by setup) and libbpf headers
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-vm-matrix-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const kernel of CATALOGUE) {
    const spec = `qemu:${kernel.name}`;
    describe(spec, () => {
      let guest: TestGuest | undefined;
      const target = (): TestGuest['target'] => {
        if (!guest) throw new Error(`${spec} did not start`);
        return guest.target;
      };
      beforeAll(async () => {
        guest = await connectTestGuest(spec);
      }, 900_000); // the first use may download the kernel
      afterAll(async () => {
        await guest?.done();
      });

      it('probes as the catalogue says: release, arch, page size, BTF, kprobe and fentry', async () => {
        const hello = await probeTarget(target());
        expect(hello.arch).toBe(kernel.arch);
        expect(hello.pageSize).toBe(kernel.pageSize);
        expect(hello.kernel).toBe(target().record.kernel.release);
        expect(hello.kernel.startsWith(kernel.name.replace(/^debian-/, '').replace(/-arm64-16k$/, ''))).toBe(true);
        expect(hello.btf).toBe(true);
        expect(hello.features.attach.kprobe).toBe(true);
        expect(hello.features.attach.fentry).toBe(true);
        expect(target().record.memoryMb).toBeLessThanOrEqual(512);
      });

      it('a static binary from this machine is staged into the guest by content and runs there as a trigger would', async () => {
        const local = path.join(work, `my-trigger-${kernel.arch}`);
        fs.copyFileSync(path.join(root, `helper/build/ringbuf-helper-${kernel.arch}`), local);
        const remote = await target().stageFile(local);
        expect(remote).toMatch(new RegExp(`^/run/ringbuf-studio/files/[0-9a-f]{16}/my-trigger-${kernel.arch}$`));
        expect(await target().stageFile(local)).toBe(remote); // same content: not copied again
        const r = await target().shell.exec([remote, '--version']);
        expect(r.stdout.toString()).toMatch(/^ringbuf-helper /);
      });

      for (const t of listTemplates()) {
        const tooOld = t.name === 'dynptr' && kernel.name === 'debian-5.10';
        it(tooOld ? 'template dynptr: refused before load with "needs 5.19"' : `template ${t.name}: events decoded from a trigger in the guest`, async () => {
          const file = path.join(t.dir, t.main);
          if (tooOld) {
            const err = await startRun({ file, targets: [target()] }).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(RunError);
            expect((err as RunError).stage).toBe('lint');
            expect((err as RunError).message).toMatch(/needs Linux 5\.19 or newer, but the target runs 5\.10/);
            expect((err as RunError).diagnostics[0]).toMatchObject({ code: 'RB012', line: lineOf(file, 'bpf_ringbuf_reserve_dynptr(') });
            return;
          }
          const run = await startRun({ file, targets: [target()] });
          try {
            expect(run.loaded.get(spec)?.programs.some((p) => p.attached)).toBe(true);
            const got = collect(run);
            if (/bash/.test(t.trigger)) {
              const typed = `rbs_typed_${crypto.randomBytes(3).toString('hex')}`;
              const ev = await typeIntoGuestBash(target(), typed, () => got.events.map((e) => e.event));
              expect(ev?.comm).toBe('bash');
              return;
            }
            const ev = await triggerUntil(target(), ['/bin/true'], (pids) => got.events.find((e) => has(e.event, pids))?.event);
            expect(ev?.comm).toBe('true');
            if ('filename' in (ev ?? {})) expect(ev?.filename).toBe('/bin/true');
            if ('exit_code' in (ev ?? {})) expect(ev?.exit_code).toBe(0);
          } finally {
            expect((await run.stop()).reason).toBe('stopped');
          }
        }, 180_000);
      }

      for (const [fixture, program, map] of [
        ['kprobe_nanosleep.bpf.c', 'rbs_kprobe_sleep', 'kprobe_events'],
        ['fentry_nanosleep.bpf.c', 'rbs_fentry_sleep', 'fentry_events'],
      ] as const) {
        it(`${fixture.replace(/_.*/, '')}/do_nanosleep attaches and delivers events from \`sleep 0.1\` in the guest`, async () => {
          const run = await startRun({ file: qemuFixture(fixture), targets: [target()] });
          try {
            expect(run.loaded.get(spec)?.programs.find((p) => p.name === program)?.attached).toBe(true);
            const got = collect(run);
            const ev = await triggerUntil(target(), ['sleep', '0.1'], (pids) => got.events.find((e) => e.map === map && has(e.event, pids))?.event);
            expect(ev?.comm).toBe('sleep');
          } finally {
            await run.stop();
          }
        }, 180_000);
      }

      if (kernel.name === 'debian-5.10' || kernel.name === 'debian-6.1') {
        it('a verifier rejection lands on the dereferencing line with this kernel\'s words', async () => {
          const file = runFixture('verifier_nonull.bpf.c');
          const err = await startRun({ file, targets: [target()], lint: false }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(RunError);
          const d = (err as RunError).diagnostics[0];
          expect(d).toMatchObject({ file, line: lineOf(file, 'REJECTED HERE'), severity: 'error', code: 'verifier' });
          expect(d?.message).toMatch(/invalid mem access/);
        }, 180_000);

        it('an unreleased reserve lands on the leaking line, with the reserve as related information', async () => {
          const file = runFixture('verifier_leak.bpf.c');
          const err = await startRun({ file, targets: [target()], lint: false }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(RunError);
          const d = (err as RunError).diagnostics[0];
          expect(d?.line).toBe(lineOf(file, 'LEAKS HERE'));
          expect(d?.message).toMatch(/Unreleased reference/);
          expect(d?.related?.[0]?.range.line).toBe(lineOf(file, 'ACQUIRED HERE'));
        }, 180_000);
      }

      if (kernel.name === 'debian-6.12') {
        // Last in its block: it takes the guest down.
        it('the VM going away mid-run ends the run with a clear reason (nothing hangs)', async () => {
          const run = await startRun({ file: path.join(root, 'bpf-templates/execve/execve.bpf.c'), targets: [target()] });
          await stopGuest(catalogueKernel(spec));
          const end = await Promise.race([run.done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
          expect(end?.reason).toBe('connection-lost');
          expect(end?.message).toMatch(/qemu:debian-6\.12.*stopped|port closed/);
        }, 120_000);
      }

      if (kernel.pageSize === 16384) {
        it('a ring sized for 4 KiB pages (2 * 4096): warned before load naming the 16 KiB page size, and the kernel makes the size the lint said', async () => {
          const seen: string[] = [];
          const run = await startRun({
            file: ringProgram(work, '2 * 4096'),
            targets: [target()],
            listeners: { diagnostics: (ds) => seen.push(...ds.map((d) => `${d.code}: ${d.message}`)), state: (st) => seen.push(`state ${st}`) },
          });
          try {
            const warning = seen.findIndex((l) => l.startsWith('RB002:'));
            expect(seen[warning]).toMatch(/max_entries 8192, which is not a multiple of the page size \(16384\): libbpf silently creates a ring of 16384 bytes/);
            expect(warning).toBeLessThan(seen.indexOf('state loading'));
            expect(run.loaded.get(spec)?.maps.find((m) => m.name === 'sized_ring')?.maxEntries).toBe(16384);
          } finally {
            await run.stop();
          }
        }, 180_000);

        it('--max-entries sized_ring=8192 (fine on 4 KiB pages) is refused before load, naming the page size', async () => {
          const err = await startRun({ file: ringProgram(work, '64 * 1024'), targets: [target()], maxEntries: { sized_ring: 8192 } }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(RunError);
          expect((err as RunError).stage).toBe('override');
          expect((err as RunError).message).toMatch(/16384/);
        }, 180_000);

        for (const [sizeExpr, requested] of [['4 * 4096', 16384], ['16 * 1024', 16384], ['3 * 16384', 49152], ['1000', 1000]] as const) {
          it(`max_entries ${sizeExpr}: the kernel creates the size the lint predicts, and the aarch64 helper decodes events`, async () => {
            const effective = effectiveRingSize(requested, 16384);
            const warnings: string[] = [];
            const run = await startRun({ file: ringProgram(work, sizeExpr), targets: [target()], listeners: { diagnostics: (ds) => warnings.push(...ds.map((d) => d.message)) } });
            try {
              expect(run.loaded.get(spec)?.maps.find((m) => m.name === 'sized_ring')?.maxEntries).toBe(effective);
              if (effective !== requested) expect(warnings.join('\n')).toContain(`creates a ring of ${effective} bytes`);
              else expect(warnings.join('\n')).not.toMatch(/sized_ring' has max_entries/);
              const got = collect(run);
              const ev = await triggerUntil(target(), ['/bin/true'], (pids) => got.events.find((e) => has(e.event, pids))?.event);
              expect(ev?.comm).toBe('true');
            } finally {
              await run.stop();
            }
          }, 180_000);
        }
      }
    });
  }
});
