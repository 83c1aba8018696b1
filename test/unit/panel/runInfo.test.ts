// A run as the panel's header shows it: effective ring sizes next to what was asked,
// programs that did not attach with the reason, rings without an event type marked hex.
import { describe, expect, it } from 'vitest';
import { panelRunInfo, panelRunState } from '../../../core/panel/runInfo';
import type { RunHandle } from '../../../core/run';

type RunShape = Pick<RunHandle, 'file' | 'targets' | 'layouts'>;

const run = {
  file: '/home/me/prog/exec.bpf.c',
  targets: [
    {
      name: 'local',
      loaded: {
        maps: [
          { name: 'rb', type: 27, typeName: 'ringbuf', maxEntries: 4096, requestedMaxEntries: 1000, keySize: 0, valueSize: 0 },
          { name: '.bss', type: 2, typeName: 'array', maxEntries: 1, keySize: 4, valueSize: 8 },
        ],
        rings: [],
        programs: [
          { name: 'on_exec', section: 'tp/sched/sched_process_exec', type: 'tracepoint', attachTarget: 'sched/sched_process_exec', attached: true },
          { name: 'on_open', section: 'kprobe/do_sys_open', type: 'kprobe', attachTarget: '', attached: false, error: { errno: 2, message: 'attach failed', reason: 'this kernel has no kprobes' } },
        ],
      },
    },
    { name: 'vm1', loaded: { maps: [], rings: [], programs: [] } },
  ],
  layouts: new Map([['rb', null]]),
} as unknown as RunShape;

describe('panelRunInfo', () => {
  it('names the program and targets, keeps the size asked for when libbpf changed it, says why a program did not attach', () => {
    const info = panelRunInfo(run, 1234);
    expect(info).toMatchObject({ program: 'exec.bpf.c', file: '/home/me/prog/exec.bpf.c', targets: ['local', 'vm1'], state: 'running', startTimeMs: 1234 });
    expect(info.maps).toEqual([
      { name: 'rb', type: 'ringbuf', maxEntries: 4096, requestedMaxEntries: 1000 },
      { name: '.bss', type: 'array', maxEntries: 1 },
    ]);
    expect(info.programs).toEqual([
      { name: 'on_exec', attachTo: 'sched/sched_process_exec', attached: true },
      { name: 'on_open', attachTo: 'kprobe/do_sys_open', attached: false, error: 'this kernel has no kprobes' },
    ]);
    expect(info.eventTypes).toEqual([{ map: 'rb', layout: null, reason: "the event type is not in the object's BTF" }]);
  });
});

describe('panelRunState', () => {
  it('every step before streaming is "starting"; a failed run is an error', () => {
    expect(['connecting', 'building', 'linting', 'loading'].map((s) => panelRunState(s as never))).toEqual(['starting', 'starting', 'starting', 'starting']);
    expect(panelRunState('running')).toBe('running');
    expect(panelRunState('stopped')).toBe('stopped');
    expect(panelRunState('failed')).toBe('error');
  });
});
