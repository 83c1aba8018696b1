// Captures real verifier logs from the built-in VM kernels into test/fixtures/verifier/<kernel>/:
// each rejected program (test/fixtures/run/verifier_*.bpf.c and test/fixtures/verifier/programs/)
// is loaded in each guest with the lint off, and the verifier's log is saved with what our
// diagnostics made of it. Run it again when a kernel or clang moves:
//   npx vite-node scripts/capture-verifier-logs.ts [qemu:debian-5.10 …]
import fs from 'node:fs';
import path from 'node:path';
import { RunError, startRun } from '../core/run/run';
import { CATALOGUE, catalogueKernel, guestStatus, stopGuest } from '../core/transport/qemu/index';
import { QemuTarget } from '../core/transport/qemu/target';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'test/fixtures/verifier');
const programs = [
  ...['verifier_nonull.bpf.c', 'verifier_leak.bpf.c'].map((f) => path.join(root, 'test/fixtures/run', f)),
  ...fs.readdirSync(path.join(out, 'programs')).filter((f) => f.endsWith('.bpf.c')).sort().map((f) => path.join(out, 'programs', f)),
];

async function captureKernel(spec: string): Promise<void> {
  const k = catalogueKernel(spec);
  const wasRunning = (await guestStatus(k)).state === 'running';
  const target = await QemuTarget.connect(spec, { idleSec: 120, log: (m) => console.log(m) });
  const dir = path.join(out, k.name);
  fs.mkdirSync(dir, { recursive: true });
  const summary: unknown[] = [];
  try {
    for (const file of programs) {
      const name = path.basename(file, '.bpf.c');
      const err = await startRun({ file, targets: [target], lint: false }).then(
        async (run) => {
          await run.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      const d = err instanceof RunError ? err.diagnostics.find((x) => x.code === 'verifier') : undefined;
      if (!d?.detail) {
        console.log(`${spec}: ${name}: not rejected by the verifier (${err instanceof Error ? err.message : 'loaded'})`);
        continue;
      }
      fs.writeFileSync(path.join(dir, `${name}.log`), d.detail.endsWith('\n') ? d.detail : `${d.detail}\n`);
      summary.push({ program: path.relative(root, file), kernel: target.info.kernel, line: d.line, message: d.message });
      console.log(`${spec}: ${name}: line ${d.line}: ${d.message}`);
    }
    fs.writeFileSync(path.join(dir, 'diagnostics.json'), JSON.stringify(summary, null, 2) + '\n');
  } finally {
    await target.close();
    if (!wasRunning) await stopGuest(k);
  }
}

const wanted = process.argv.slice(2);
for (const k of CATALOGUE) {
  const spec = `qemu:${k.name}`;
  if (!wanted.length || wanted.includes(spec)) await captureKernel(spec);
}
