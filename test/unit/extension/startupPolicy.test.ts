// When ringbufStudio.runOnStartup may load a program as root by itself: the user's own
// setting runs as it is (the demo), a repository's asks first — once per workspace on
// this machine, every time for another one — and nothing runs in Restricted Mode.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideRunOnStartup, resolveStartupProgram, startupAnswerKey, type StartupRequest } from '../../../extension/startupPolicy';

const base: StartupRequest = { program: 'execve/execve.bpf.c', programOrigin: 'user', target: 'local', targetOrigin: 'default', trusted: true, remembered: undefined };
const decide = (over: Partial<StartupRequest>) => decideRunOnStartup({ ...base, ...over });

describe('decideRunOnStartup', () => {
  it('nothing when the setting is empty', () => {
    expect(decide({ program: undefined }).action).toBe('nothing');
  });

  it('the user set it in their own settings (npm run demo): it runs, locally or on their own remote alias', () => {
    expect(decide({}).action).toBe('run');
    expect(decide({ target: 'lab-vm', targetOrigin: 'user' }).action).toBe('run');
  });

  it('Restricted Mode: never runs, whoever set it', () => {
    expect(decide({ trusted: false }).action).toBe('refuse');
    expect(decide({ trusted: false, programOrigin: 'workspace', remembered: 'run' }).action).toBe('refuse');
  });

  it('from the workspace on this machine: asks, and a remembered answer is kept', () => {
    expect(decide({ programOrigin: 'workspace' })).toMatchObject({ action: 'ask', rememberRun: true });
    expect(decide({ programOrigin: 'workspaceFolder' })).toMatchObject({ action: 'ask', rememberRun: true });
    expect(decide({ programOrigin: 'workspace', remembered: 'run' }).action).toBe('run');
    expect(decide({ programOrigin: 'workspace', remembered: 'never' }).action).toBe('nothing');
  });

  it('a remote target from the workspace: asks every time, even after a yes', () => {
    const remote = { programOrigin: 'workspace', target: 'prod-db', targetOrigin: 'workspace' } as const;
    expect(decide(remote)).toMatchObject({ action: 'ask', rememberRun: false });
    expect(decide({ ...remote, remembered: 'run' })).toMatchObject({ action: 'ask', rememberRun: false });
    expect(decide({ ...remote, remembered: 'never' }).action).toBe('nothing');
  });

  it('the user\'s program sent elsewhere by the workspace\'s defaultTarget still asks', () => {
    expect(decide({ target: 'prod-db', targetOrigin: 'workspace' })).toMatchObject({ action: 'ask', rememberRun: false });
    expect(decide({ targetOrigin: 'workspace' })).toMatchObject({ action: 'ask', rememberRun: true });
  });
});

describe('startupAnswerKey', () => {
  it('differs when the repository changes the program or the target', () => {
    const k = startupAnswerKey('a.bpf.c', 'local');
    expect(startupAnswerKey('b.bpf.c', 'local')).not.toBe(k);
    expect(startupAnswerKey('a.bpf.c', 'prod')).not.toBe(k);
    expect(startupAnswerKey('a.bpf.c', 'local')).toBe(k);
  });
});

describe('resolveStartupProgram', () => {
  const folder = path.join(path.sep, 'home', 'me', 'repo');
  it('a *.bpf.c inside the folder', () => {
    expect(resolveStartupProgram(folder, 'prog/x.bpf.c')).toEqual({ file: path.join(folder, 'prog', 'x.bpf.c') });
  });
  it('refuses paths that leave the folder, naming the setting', () => {
    for (const p of ['../x.bpf.c', '../../../etc/x.bpf.c', '/etc/x.bpf.c', 'prog/../../x.bpf.c']) {
      const r = resolveStartupProgram(folder, p);
      expect(r, p).toHaveProperty('error');
      expect((r as { error: string }).error).toMatch(/^ringbufStudio\.runOnStartup: .* is outside the workspace folder/);
    }
  });
  it('refuses anything that is not a *.bpf.c', () => {
    expect(resolveStartupProgram(folder, 'run.sh')).toEqual({ error: 'ringbufStudio.runOnStartup: run.sh is not a *.bpf.c file' });
  });
});
