// The settings as package.json declares them and as the extension parses them: binary
// paths only from the user's own settings, every setting that chooses what runs where
// kept from untrusted workspaces, hostile or broken values reported and not used.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineScopedSettings, panelLimits, parseStudioConfig, restrictedSettings, settingKeys, settingOrigin, type SettingKey } from '../../../extension/settings';

interface Manifest {
  capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, { scope?: string; maximum?: number }> } };
}
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;
const properties = manifest.contributes.configuration.properties;

function parse(values: Partial<Record<SettingKey, unknown>>) {
  return parseStudioConfig((k) => values[k]);
}

describe('package.json settings', () => {
  it('declares exactly the keys the extension reads', () => {
    expect(Object.keys(properties).sort()).toEqual(settingKeys.map((k) => `ringbufStudio.${k}`).sort());
  });

  it('clangPath and helperPath are machine-scoped: a workspace .vscode/settings.json cannot pick the binaries that run on save and as root', () => {
    expect(machineScopedSettings).toEqual(expect.arrayContaining(['clangPath', 'helperPath']));
    for (const k of machineScopedSettings) expect(properties[`ringbufStudio.${k}`]?.scope, k).toBe('machine');
  });

  it('limited support in untrusted workspaces, with every setting that chooses what runs where restricted', () => {
    const untrusted = manifest.capabilities?.untrustedWorkspaces;
    expect(untrusted?.supported).toBe('limited');
    const restricted = untrusted?.restrictedConfigurations ?? [];
    for (const k of ['runOnStartup', 'targets', 'defaultTarget', 'maxEntriesOverrides', 'clangPath', 'helperPath', 'compileOn']) {
      expect(restricted, k).toContain(`ringbufStudio.${k}`);
    }
    expect([...restricted].sort()).toEqual(restrictedSettings.map((k) => `ringbufStudio.${k}`).sort());
  });

  it('bounds the panel store as the parser does', () => {
    expect(properties['ringbufStudio.panel.maxEvents']?.maximum).toBe(panelLimits.maxEvents);
    expect(properties['ringbufStudio.panel.maxMemoryMB']?.maximum).toBe(panelLimits.maxMemoryMB);
  });
});

describe('parseStudioConfig', () => {
  it('defaults: local target, lint and build on, 1 M events and 256 MiB in the panel', () => {
    const { config, problems } = parse({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ defaultTarget: 'local', clangPath: undefined, helperPath: undefined, runOnStartup: undefined, lintOnType: true, buildOnSave: true, panelMaxEvents: 1_000_000, panelMaxBytes: 256 << 20, compileOn: 'local', targets: [], maxEntriesOverrides: {} });
  });

  it('trims paths and treats blank ones as unset', () => {
    const { config } = parse({ clangPath: '  /opt/llvm/bin/clang  ', helperPath: '   ', runOnStartup: ' prog/a.bpf.c ', defaultTarget: '' });
    expect(config.clangPath).toBe('/opt/llvm/bin/clang');
    expect(config.helperPath).toBeUndefined();
    expect(config.runOnStartup).toBe('prog/a.bpf.c');
    expect(config.defaultTarget).toBe('local');
  });

  it('drops targets that are not valid target specs (no name or host, a host list) and says which', () => {
    const { config, problems } = parse({
      targets: [{ name: 'vm1', host: '10.0.0.5', port: 2222, user: 'ci' }, { host: 'nameless' }, 'evil', null, { name: 'evil', host: 'evil.example,github.com,*.corp.example' }],
    });
    expect(config.targets).toEqual([{ name: 'vm1', host: '10.0.0.5', port: 2222, user: 'ci' }]);
    expect(problems).toEqual([
      'ringbufStudio.targets[1]: it needs a string name and host; ignored',
      'ringbufStudio.targets[2]: it is not an object with name and host; ignored',
      'ringbufStudio.targets[3]: it is not an object with name and host; ignored',
      expect.stringMatching(/^ringbufStudio\.targets entry "evil": .*evil\.example,github\.com.*; ignored$/),
    ]);
  });

  it('keeps positive integer max_entries overrides only', () => {
    const { config, problems } = parse({ maxEntriesOverrides: { events: 1 << 20, bad: -1, frac: 1.5, str: '4096' } });
    expect(config.maxEntriesOverrides).toEqual({ events: 1 << 20 });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/maxEntriesOverrides\.bad: -1 is not a positive integer/);
  });

  it('clamps the panel store: a workspace cannot make one window hold terabytes', () => {
    const { config, problems } = parse({ 'panel.maxMemoryMB': 1e9, 'panel.maxEvents': 10 });
    expect(config.panelMaxBytes).toBe(panelLimits.maxMemoryMB * 1048576);
    expect(config.panelMaxEvents).toBe(panelLimits.minEvents);
    expect(problems).toEqual(['ringbufStudio.panel.maxEvents: 10 is outside 1000–100000000; using 1000', 'ringbufStudio.panel.maxMemoryMB: 1000000000 is outside 16–16384; using 16384']);
  });

  it('anything but "target" compiles locally; a page size must be a positive integer', () => {
    expect(parse({ compileOn: 'remote; rm -rf /' }).config.compileOn).toBe('local');
    expect(parse({ compileOn: 'target' }).config.compileOn).toBe('target');
    expect(parse({ pageSize: 16384 }).config.pageSize).toBe(16384);
    expect(parse({ pageSize: -4096 }).config.pageSize).toBeUndefined();
  });
});

describe('settingOrigin', () => {
  it('names the highest layer that sets the value', () => {
    expect(settingOrigin(undefined)).toBe('default');
    expect(settingOrigin({})).toBe('default');
    expect(settingOrigin({ globalValue: 'a.bpf.c' })).toBe('user');
    expect(settingOrigin({ globalValue: 'a.bpf.c', workspaceValue: '' })).toBe('workspace');
    expect(settingOrigin({ globalValue: 'a', workspaceValue: 'b', workspaceFolderValue: 'c' })).toBe('workspaceFolder');
  });
});
