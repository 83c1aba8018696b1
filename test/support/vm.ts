// The product's VM targets (qemu:debian-*) in tests: what the host needs, a connection with a
// short idle power-off, and triggers run inside the guest until an event from them arrives.
import fs from 'node:fs';
import { findOnPath } from '../../core/util/which';
import { DEBIAN_KEYRING } from '../../core/transport/qemu/archive';
import { catalogueKernel, guestStatus, stopGuest } from '../../core/transport/qemu/index';
import { QemuTarget } from '../../core/transport/qemu/target';

/** Guests booted by tests power off after this long unused, should a test process die. */
export const TEST_IDLE_SEC = 180;

/** What the host lacks for the VM targets, or null. */
export function missingVmTool(): string | null {
  const need: Array<[string, string]> = [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-system-aarch64', 'qemu-system-arm'],
    ['apt-get', 'apt'],
    ['dpkg-deb', 'dpkg'],
    ['xz', 'xz-utils'],
    ['zstd', 'zstd'],
  ];
  for (const [cmd, pkg] of need) if (!findOnPath(cmd)) return `${cmd} not installed (apt-get install ${pkg})`;
  if (!fs.existsSync(DEBIAN_KEYRING)) return `${DEBIAN_KEYRING} missing (apt-get install debian-archive-keyring)`;
  return null;
}

export interface TestGuest {
  target: QemuTarget;
  /** The guest was running before this test file started it (then it is left running). */
  wasRunning: boolean;
  /** Stops the guest unless it was already running before. */
  done(): Promise<void>;
}

/** Connects to a VM target (booting it when needed) for a test file. */
export async function connectTestGuest(spec: string, log: (m: string) => void = (m) => console.log(`vm: ${m}`)): Promise<TestGuest> {
  const k = catalogueKernel(spec);
  const wasRunning = (await guestStatus(k)).state === 'running';
  const target = await QemuTarget.connect(spec, { idleSec: TEST_IDLE_SEC, log });
  return {
    target,
    wasRunning,
    done: async () => {
      await target.close();
      if (!wasRunning) await stopGuest(k);
    },
  };
}

/**
 * Runs argv in the guest again and again until `seen(pid)` finds an event carrying the pid
 * of one of those runs (the guest runs nothing else; generous deadline for TCG).
 */
export async function triggerUntil<T>(target: QemuTarget, argv: string[], seen: (pids: ReadonlySet<number>) => T | undefined, ms = 30_000): Promise<T | undefined> {
  const pids = new Set<number>();
  const end = Date.now() + ms;
  for (;;) {
    const hit = seen(pids);
    if (hit !== undefined || Date.now() > end) return hit;
    const p = await target.spawnCommand(argv);
    p.stdin.end();
    const pid = await p.pid;
    if (pid) pids.add(pid);
    await p.exited;
    await new Promise((r) => setTimeout(r, 200));
  }
}
