// Test helper: drives `ringbuf-helper serve` over any HelperProcess with the
// protocol module (LOAD → START → EVENTS). Used by the SSH end-to-end tests and
// by holdConnection.ts (the child process that the client-kill test SIGKILLs).
import { FrameDecoder, encodeCommand, encodeLoad, splitRecords } from '../../../core/protocol/helper';
import type { HelperMessage } from '../../../core/protocol/helper';
import type { HelperProcess } from '../../../core/transport/types';

export interface ExecEvent {
  host: string;
  pid: number;
  comm: string;
}

/** The execve program used by these tests; `name` becomes the BPF program name (≤ 15 chars). */
export function execProgramSource(name: string): string {
  return `#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
struct exec_event { __u32 pid; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 64 * 1024); } events SEC(".maps");
SEC("tp/sched/sched_process_exec")
int ${name}(void *ctx)
{
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
}

export class HelperStream {
  readonly events: ExecEvent[] = [];
  private readonly decoder = new FrameDecoder();
  private readonly waiters: Array<{ pred: (m: HelperMessage) => boolean; resolve: (m: HelperMessage) => void }> = [];
  stderr = '';

  constructor(
    readonly proc: HelperProcess,
    readonly host: string,
  ) {
    proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.stdout.on('data', (chunk: Buffer) => {
      for (const m of this.decoder.push(chunk)) {
        if (m.kind === 'events') {
          const { count, offsets } = splitRecords(m.records, m.count);
          const view = new DataView(m.records.buffer, m.records.byteOffset, m.records.byteLength);
          for (let i = 0; i < count; i++) {
            const off = offsets[i] ?? 0;
            const commBytes = m.records.subarray(off + 4, off + 20);
            const nul = commBytes.indexOf(0);
            this.events.push({
              host,
              pid: view.getUint32(off, true),
              comm: Buffer.from(commBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
            });
          }
        }
        const i = this.waiters.findIndex((w) => w.pred(m));
        if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
      }
    });
  }

  next(pred: (m: HelperMessage) => boolean, timeoutMs = 20_000): Promise<HelperMessage> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for the helper (stderr: ${this.stderr})`)), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }

  async loadAndStart(object: Uint8Array): Promise<void> {
    await this.next((m) => m.kind === 'hello');
    this.proc.stdin.write(encodeLoad({ object, attachAll: true, attach: [], overrides: {} }));
    const r = await this.next((m) => m.kind === 'loaded' || m.kind === 'error');
    if (r.kind === 'error') throw new Error(`load failed: ${r.error.message}`);
    if (r.kind === 'loaded' && !r.loaded.programs.every((p) => p.attached)) throw new Error(`attach failed: ${JSON.stringify(r.loaded.programs)}`);
    this.proc.stdin.write(encodeCommand('start'));
  }
}
