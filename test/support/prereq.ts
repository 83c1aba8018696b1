// No silent skips: a test that needs a real prerequisite skips only when it is
// missing AND the matching REQUIRE_* variable is not set. CI sets them, so there a
// missing prerequisite is a failure, not a skip.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { missingQemuTool } from './qemu';
import { missingVmTool } from './vm';

export type Prerequisite = 'bpf' | 'sshd' | 'browser' | 'qemu';

const envName: Record<Prerequisite, string> = {
  bpf: 'REQUIRE_BPF',
  sshd: 'REQUIRE_SSHD',
  browser: 'REQUIRE_BROWSER',
  qemu: 'REQUIRE_QEMU',
};

/** Returns null when available, otherwise the reason it is not. */
export function checkPrerequisite(p: Prerequisite): string | null {
  switch (p) {
    case 'bpf':
      if (process.getuid?.() !== 0) return 'not running as root';
      if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF (/sys/kernel/btf/vmlinux)';
      ensureBpfMounts();
      if (!fs.existsSync('/sys/kernel/tracing/events')) return 'tracefs is not mounted at /sys/kernel/tracing';
      return null;
    case 'sshd':
      if (!fs.existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd not installed (apt-get install openssh-server)';
      return null;
    case 'browser':
      if (!fs.existsSync('/usr/bin/chromium')) return '/usr/bin/chromium not installed (apt-get install chromium)';
      return null;
    case 'qemu':
      // Debian kernels in QEMU: the product's VM targets (test/support/vm.ts) and the
      // SSH-into-a-guest tier (test/support/qemu.ts).
      return missingVmTool() ?? missingQemuTool();
  }
}

/**
 * For `describe.skipIf(!available('bpf'))`: true when present; throws when missing
 * and required (so the test file fails loudly); false when missing and optional.
 */
export function available(p: Prerequisite): boolean {
  const reason = checkPrerequisite(p);
  if (reason === null) return true;
  if (process.env[envName[p]] === '1') {
    throw new Error(`${envName[p]}=1 but prerequisite '${p}' is missing: ${reason}`);
  }
  console.warn(`skipping tests that need '${p}': ${reason} (set ${envName[p]}=1 to make this a failure)`);
  return false;
}

let mounted = false;
/** Mounts tracefs and bpffs if needed (idempotent; root only). */
export function ensureBpfMounts(): void {
  if (mounted || process.getuid?.() !== 0) return;
  const mounts = fs.readFileSync('/proc/mounts', 'utf8');
  if (!/ \/sys\/kernel\/tracing tracefs /.test(mounts)) {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  }
  if (!/ \/sys\/fs\/bpf bpf /.test(mounts)) {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
  mounted = true;
}
