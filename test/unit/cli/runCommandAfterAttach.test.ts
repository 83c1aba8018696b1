// `run … -- CMD` on a target whose transport cannot run commands: a clear error before
// anything starts. No transport of ours lacks commands today, so the run handle here is a
// stand-in (a fake, named as such) that only carries the target's capabilities.
import { describe, expect, it } from 'vitest';
import { runCommandAfterAttach } from '../../../cli/runCommandAfterAttach';
import type { CliIo } from '../../../cli/command';
import type { RunHandle } from '../../../core/run/types';
import { StudioError } from '../../../core/util/errors';

function fakeRunOn(target: string, canRunCommands: boolean): RunHandle {
  return { targets: [{ name: target, connection: { name: target, capabilities: { canRunCommands, sharesHostKernel: false } } }] } as unknown as RunHandle;
}

const io: CliIo = { stdout: () => undefined, stderr: () => undefined, isTty: false, cwd: '/', signal: new AbortController().signal };

describe('run -- CMD on a target that cannot run commands', () => {
  it('names the target and the command, and says where -- CMD works', async () => {
    const err = await runCommandAfterAttach(fakeRunOn('appliance', false), ['/bin/true', '-x'], io, { quiet: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).message).toBe('the target appliance cannot run commands, so `/bin/true -x` cannot run there');
    expect((err as StudioError).code).toBe('ENOCOMMANDS');
    expect((err as StudioError).hint).toContain('run -- CMD works on local, SSH and qemu: targets');
  });
});
