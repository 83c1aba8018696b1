import { describe, expect, it } from 'vitest';
import { knownHostsName, parseTargetSpec } from '../../../../core/transport/ssh/spec';

describe('parseTargetSpec', () => {
  it('reads aliases, user@host, ports and bracketed IPv6', () => {
    expect(parseTargetSpec('buildvm')).toEqual({ alias: 'buildvm', host: 'buildvm' });
    expect(parseTargetSpec('alice@10.0.0.5')).toEqual({ user: 'alice', host: '10.0.0.5' });
    expect(parseTargetSpec('alice@vm.example.com:2222')).toEqual({ user: 'alice', host: 'vm.example.com', port: 2222 });
    expect(parseTargetSpec('vm:2200')).toEqual({ host: 'vm', port: 2200 });
    expect(parseTargetSpec('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(parseTargetSpec('root@[fe80::1%eth0]:22')).toEqual({ user: 'root', host: 'fe80::1%eth0', port: 22 });
    expect(parseTargetSpec('fe80::1')).toEqual({ alias: 'fe80::1', host: 'fe80::1' });
  });

  it.each([
    ['', /empty/],
    ['a;touch /tmp/x', /not allowed/],
    ['$(id)@host', /user name/],
    ['host:99999', /out of range/],
    ['host:ssh', /not a number/],
    ['-oProxyCommand=x', /not allowed/],
    ['[::1', /without matching/],
    ['user@`id`', /not allowed/],
    ["o'neil@h", /user name/],
  ])('refuses %j with a reason', (spec, why) => {
    expect(() => parseTargetSpec(spec)).toThrow(why);
  });

  it('names hosts the way known_hosts does', () => {
    expect(knownHostsName('Example.COM', 22)).toBe('example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });
});
