import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSshHosts, resolveTarget, validateExtraTarget } from '../../../../core/transport/ssh/config';

let dir: string;
let cfg: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-cfg-'));
  cfg = path.join(dir, 'config');
  fs.writeFileSync(path.join(dir, 'extra.conf'), 'Host included\n  HostName 10.9.9.9\n');
  fs.writeFileSync(
    cfg,
    [
      `Include ${dir}/extra.conf`,
      'Host vm',
      '  HostName 192.168.7.10',
      '  Port 2201',
      '  User alice',
      '  IdentityFile ~/.ssh/vm_key',
      '  IdentityFile /keys/%r@%h',
      '  IdentitiesOnly yes',
      '  ProxyJump bastion,carol@hop2:2022',
      'Host bastion',
      '  HostName bastion.example.com',
      '  User jump',
      'Host web-* db?',
      '  User ops',
      'Match exec "touch ' + dir + '/match-exec-ran"',
      '  User hacked',
      'Host *',
      '  ServerAliveInterval 10',
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ssh config resolution', () => {
  it('resolves an alias with HostName, Port, User, every IdentityFile and a ProxyJump chain', () => {
    const r = resolveTarget('vm', { sshConfigPath: cfg });
    expect(r).toMatchObject({ hostName: '192.168.7.10', port: 2201, user: 'alice', identitiesOnly: true, source: 'ssh-config' });
    expect(r.identityFiles).toEqual([path.join(os.homedir(), '.ssh/vm_key'), '/keys/alice@192.168.7.10']);
    expect(r.jumps.map((j) => [j.hostName, j.port, j.user])).toEqual([
      ['bastion.example.com', 22, 'jump'],
      ['hop2', 2022, 'carol'],
    ]);
    // Match exec never runs a shell command from the config.
    expect(fs.existsSync(path.join(dir, 'match-exec-ran'))).toBe(false);
  });

  it('lets the spec override user and port, and applies wildcard sections', () => {
    const r = resolveTarget('bob@web-1:2022', { sshConfigPath: cfg });
    expect(r).toMatchObject({ hostName: 'web-1', port: 2022, user: 'bob', identitiesOnly: false, jumps: [] });
    expect(resolveTarget('web-2', { sshConfigPath: cfg }).user).toBe('ops');
    expect(resolveTarget('included', { sshConfigPath: cfg }).hostName).toBe('10.9.9.9');
  });

  it('falls back to ringbufStudio.targets, then to default identities and the local user', () => {
    const r = resolveTarget('lab', {
      sshConfigPath: cfg,
      extraTargets: [{ name: 'lab', host: '10.0.0.7', port: 2222, user: 'lab', identityFile: '~/.ssh/lab', proxyJump: 'bastion' }],
    });
    expect(r).toMatchObject({ hostName: '10.0.0.7', port: 2222, user: 'lab', source: 'targets-setting' });
    expect(r.identityFiles[0]).toBe(path.join(os.homedir(), '.ssh/lab'));
    expect(r.jumps[0]?.hostName).toBe('bastion.example.com');
    const plain = resolveTarget('10.1.2.3', { sshConfigPath: path.join(dir, 'missing') });
    expect(plain.user).toBe(os.userInfo().username);
    expect(plain.identityFiles.map((f) => path.basename(f))).toEqual(['id_ed25519', 'id_ecdsa', 'id_rsa']);
  });

  it('lists concrete hosts for the Targets view, skipping wildcard patterns', () => {
    const names = listSshHosts({ sshConfigPath: cfg }).map((h) => h.name);
    expect(names).toEqual(['included', 'vm', 'bastion']);
    expect(listSshHosts({ sshConfigPath: cfg }).find((h) => h.name === 'vm')).toEqual({
      name: 'vm',
      hostName: '192.168.7.10',
      user: 'alice',
      port: 2201,
    });
  });
});

// Trust item 3: a ringbufStudio.targets entry may come from a cloned workspace. It is
// checked exactly as the CLI checks a typed target spec, hops of its ProxyJump included.
describe('ringbufStudio.targets entries are validated like target specs', () => {
  const entry = (over: Record<string, unknown>): Record<string, unknown> => ({ name: 'lab', host: '10.0.0.7', ...over });

  it('refuses a host that would become known_hosts patterns, naming the entry and the host', () => {
    const evil = entry({ host: 'evil.example,github.com,*.corp.example', proxyJump: 'bastion' });
    expect(() => validateExtraTarget(evil)).toThrow(
      `ringbufStudio.targets entry "lab": host name 'evil.example,github.com,*.corp.example' contains characters that are not allowed`,
    );
    expect(() => resolveTarget('lab', { sshConfigPath: path.join(dir, 'missing'), extraTargets: [evil as never] })).toThrow(/contains characters that are not allowed/);
  });

  it('refuses bad users, ports, names and ProxyJump hops — and accepts what a spec accepts', () => {
    for (const [over, why] of [
      [{ user: 'a b' }, /user name 'a b'/],
      [{ user: '$(id)' }, /user name/],
      [{ port: 0 }, /port 0 is not a number 1-65535/],
      [{ port: '22' }, /port "22"/],
      [{ name: 'two words' }, /plain alias/],
      [{ name: 'root@x' }, /plain alias/],
      [{ host: '-oProxyCommand=x' }, /host name/],
      [{ host: 'a\nb' }, /host name/],
      [{ proxyJump: 'ok.example,evil host' }, /proxyJump: invalid target 'evil host'/],
      [{ proxyJump: 'x;touch /tmp/p' }, /proxyJump: invalid target/],
      [{ proxyJump: 'bastion,*.corp.example' }, /proxyJump: invalid target '\*\.corp\.example'/],
    ] as const) {
      expect(() => validateExtraTarget(entry(over)), JSON.stringify(over)).toThrow(why);
    }
    expect(validateExtraTarget(entry({ user: 'lab', port: 2222, identityFile: '~/.ssh/lab', proxyJump: 'ssh://ops@bastion:2200,jump2' }))).toEqual({
      name: 'lab',
      host: '10.0.0.7',
      user: 'lab',
      port: 2222,
      identityFile: '~/.ssh/lab',
      proxyJump: 'ssh://ops@bastion:2200,jump2',
    });
    expect(validateExtraTarget(entry({ host: 'fe80::1%eth0' })).host).toBe('fe80::1%eth0');
  });

  it('a setting host is used as typed: no %-token expansion (that is ssh_config syntax)', () => {
    expect(() => resolveTarget('lab', { sshConfigPath: path.join(dir, 'missing'), extraTargets: [{ name: 'lab', host: '%d' }] })).not.toThrow();
    expect(resolveTarget('lab', { sshConfigPath: path.join(dir, 'missing'), extraTargets: [{ name: 'lab', host: '%d' }] }).hostName).toBe('%d');
  });
});
