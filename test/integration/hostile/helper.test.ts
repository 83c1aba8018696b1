// A hostile target that controls the helper itself: its `sha256sum` lies that the cached
// helper is ours, and the file there is the target's own program. It answers `vmlinux-h`
// with a header of its choosing and `serve` with frames full of escape sequences and a
// verifier log naming workstation files. What the helper sends back is data: the header
// lands only in that target's cache namespace (never the local one), no file the log
// names is opened, nothing reaches the terminal raw, and the run fails with a clear message.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVmlinuxHeader } from '../../../core/compile/vmlinux';
import { encodeHelperMessage, PROTOCOL_VERSION, type Hello } from '../../../core/protocol/helper';
import { available } from '../../support/prereq';
import { addTestUser, type TestUser } from '../../support/sshd';
import { hasStrace, installPackage, makeHome, runTracedCli, startHostileTarget, violations, type HostileTarget } from './support';

const PROGRAM = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 64 * 1024); } events SEC(".maps");
SEC("tp/sched/sched_process_exec")
int hostile_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	*e = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!available('sshd'))('hostile target: a helper of its own', () => {
  let target: HostileTarget;
  let user: TestUser;
  let work: string;
  let pkg: string;
  let cli: string;
  let home: string;
  let secret: string;
  let program: string;

  beforeAll(async () => {
    if (!hasStrace()) throw new Error('the hostile tier needs strace (apt-get install strace; scripts/setup.sh test installs it)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-hostile-helper-'));
    fs.chmodSync(work, 0o755);
    user = addTestUser('rbshostilehlp', 'nopasswd');
    target = await startHostileTarget();
    pkg = path.join(work, 'pkg');
    cli = await installPackage(pkg);
    home = makeHome(path.join(work, 'home'), target.sshConfig('vm1', user.name), `${target.sshd.knownHostsLine}\n`);
    secret = path.join(work, 'workstation-secret.c');
    fs.writeFileSync(secret, `SECRET-${process.pid}\n`);
    program = path.join(work, 'prog', 'hostile.bpf.c');
    fs.mkdirSync(path.dirname(program));
    fs.writeFileSync(program, PROGRAM);

    // The target's "helper", where ours would be cached, and the lie that it is ours.
    const ours = fs.readFileSync(path.join(pkg, 'dist', 'helper', 'ringbuf-helper-x86_64'));
    target.say('sha256sum-file', crypto.createHash('sha256').update(ours).digest('hex'));
    const dir = path.join(user.home, '.cache', 'ringbuf-studio', '0.1.0');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const realHeader = fs.readFileSync(path.join((await ensureVmlinuxHeader()).dir, 'vmlinux.h'), 'utf8');
    // Inside the include guard, like a header the target generated itself.
    const guardEnd = realHeader.lastIndexOf('#endif');
    fs.writeFileSync(path.join(dir, 'header.h'), `${realHeader.slice(0, guardEnd)}struct planted_by_the_target { int x; };\n${realHeader.slice(guardEnd)}`);
    const hello: Hello = {
      protocol: PROTOCOL_VERSION,
      helper: '0.1.0\x1b[2J',
      kernel: `${os.release()}\x1b]0;pwned\x07`,
      arch: 'x86_64',
      pageSize: 4096,
      btf: true,
      ringbuf: true,
      pid: 1,
      uid: 0,
      features: { progTypes: { 'tracepoint\x1b[31m': true }, attach: {} },
    };
    const log = [
      '0: R1=ctx() R10=fp0',
      `; int x = 1; @ ${'../'.repeat(10)}${secret.slice(1)}:1`,
      '0: (b7) r0 = 0',
      `; return x; @ ${secret}:1`,
      '1: (95) exit',
      'R0 !read_ok \x1b]52;c;cHduZWQ=\x07\x1b[2J',
      'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'serve.bin'), encodeHelperMessage({ kind: 'hello', hello }));
    // After the LOAD arrives: a log line, then a verifier rejection.
    fs.writeFileSync(
      path.join(dir, 'error.bin'),
      Buffer.concat([
        encodeHelperMessage({ kind: 'log', level: 'warn', more: false, text: 'hello from the target \x1b]0;title\x07\x1b[31mred' }),
        encodeHelperMessage({ kind: 'error', error: { code: 'verifier', fatal: false, message: 'rejected \x1b[31m', program: 'hostile_exec', log } }),
      ]),
    );
    fs.writeFileSync(
      path.join(dir, 'ringbuf-helper-x86_64'),
      `#!/bin/sh
d=$(dirname "$0")
case "$1" in
  --version) echo "ringbuf-helper 0.1.0 protocol ${PROTOCOL_VERSION}" ;;
  vmlinux-h) exec /bin/cat "$d/header.h" ;;
  serve) /bin/cat "$d/serve.bin"; head -c 1 > /dev/null; /bin/cat "$d/error.bin"; exec /bin/cat > /dev/null ;;
esac
`,
      { mode: 0o755 },
    );
    execFileSync('chown', ['-R', `${user.name}:`, path.join(user.home, '.cache')]);
  }, 120_000);

  afterAll(async () => {
    await target?.stop();
    user?.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('its header stays in its own cache namespace, its log opens no file, its text never reaches the terminal raw', async () => {
    const env = { PATH: process.env.PATH, HOME: home, SSH_AUTH_SOCK: '', LANG: 'C.UTF-8' };
    const run = await runTracedCli(cli, ['run', program, '--target', 'vm1', '--count', '1', '--verbose'], { cwd: work, env, timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(1);

    // The log's file names are shown, never opened.
    expect(run.events.filter((e) => e.path.includes('workstation-secret'))).toEqual([]);
    const cache = path.join(home, '.cache', 'ringbuf-studio');
    const allowed = { read: [pkg, path.join(home, '.ssh'), target.sshd.clientKey, path.dirname(program)], write: [cache, `${path.join(os.tmpdir(), 'ringbuf-studio-verifier-')}*`] };
    expect(violations(run, allowed, work), run.stderr).toEqual([]);

    // The target's header: used for its build, cached under its identity, never as the local one.
    const vmlinux = path.join(cache, 'vmlinux');
    const planted = fs.readdirSync(vmlinux, { recursive: true }).map(String).filter((f) => f.endsWith('vmlinux.h') && fs.readFileSync(path.join(vmlinux, f), 'utf8').includes('planted_by_the_target'));
    expect(planted).toHaveLength(1);
    expect(planted[0]?.split(path.sep)[0]).toBe('targets');
    expect(fs.existsSync(path.join(vmlinux, 'local'))).toBe(false);

    // Its words reach the terminal escaped.
    expect(run.stderr).toContain('error: R0 !read_ok \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J [verifier]');
    expect(run.stderr).toContain('hello from the target \\x1b]0;title\\x07\\x1b[31mred');
    expect(run.stderr).not.toContain('\x1b');
  }, 240_000);
});
