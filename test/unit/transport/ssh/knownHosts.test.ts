import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprintOfBlob,
  globMatch,
  hostFieldMatches,
  parseKnownHosts,
  readKnownHosts,
  verifyHostKey,
} from '../../../../core/transport/ssh/knownHosts';

let dir: string;
/** Real keys from ssh-keygen: [type, base64, blob]. */
const keys: Record<string, { type: string; b64: string; blob: Buffer; fp: string }> = {};

function makeKey(name: string, type: string): void {
  const f = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', f]);
  const [t, b64] = fs.readFileSync(`${f}.pub`, 'utf8').split(' ');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${f}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  keys[name] = { type: t ?? '', b64: b64 ?? '', blob: Buffer.from(b64 ?? '', 'base64'), fp };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-kh-'));
  makeKey('a', 'ed25519');
  makeKey('b', 'ed25519');
  makeKey('r', 'ecdsa');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const k = (n: string): { type: string; b64: string; blob: Buffer; fp: string } => {
  const v = keys[n];
  if (!v) throw new Error(`no key ${n}`);
  return v;
};

describe('known_hosts matching', () => {
  it('matches globs and negations like OpenSSH', () => {
    expect(globMatch('*.example.com', 'vm.Example.COM')).toBe(true);
    expect(globMatch('vm?', 'vm1')).toBe(true);
    expect(globMatch('vm?', 'vm12')).toBe(false);
    expect(hostFieldMatches('*.lan,!bad.lan', 'good.lan')).toBe(true);
    expect(hostFieldMatches('*.lan,!bad.lan', 'bad.lan')).toBe(false);
    expect(hostFieldMatches('a,b,[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
  });

  it('finds a plain [host]:port entry and reports its line', () => {
    const text = `# comment\n\nother.host ${k('b').type} ${k('b').b64}\n[127.0.0.1]:2222 ${k('a').type} ${k('a').b64} c\n`;
    const v = verifyHostKey(parseKnownHosts(text, 'kh'), '[127.0.0.1]:2222', k('a').blob);
    expect(v.status).toBe('known');
    expect(v.status === 'known' && v.entry.line).toBe(4);
    expect(verifyHostKey(parseKnownHosts(text, 'kh'), '127.0.0.1', k('a').blob).status).toBe('unknown');
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed');
    fs.writeFileSync(file, `[127.0.0.1]:2222 ${k('a').type} ${k('a').b64}\nvm.lan,10.1.1.1 ${k('b').type} ${k('b').b64}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    const entries = readKnownHosts(file);
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(verifyHostKey(entries, '[127.0.0.1]:2222', k('a').blob).status).toBe('known');
    expect(verifyHostKey(entries, '10.1.1.1', k('b').blob).status).toBe('known');
    expect(verifyHostKey(entries, '10.1.1.2', k('b').blob).status).toBe('unknown');
  });

  it('reports a changed key with the old entry, never as known', () => {
    const entries = parseKnownHosts(`vm.lan ${k('a').type} ${k('a').b64}\n`, '/x/known_hosts');
    const v = verifyHostKey(entries, 'vm.lan', k('b').blob);
    expect(v.status).toBe('changed');
    if (v.status === 'changed') {
      expect(v.entries[0]?.line).toBe(1);
      expect(v.entries[0]?.file).toBe('/x/known_hosts');
    }
  });

  it('treats a different key type as unknown (and says which types are known)', () => {
    const entries = parseKnownHosts(`vm.lan ${k('r').type} ${k('r').b64}\n`, 'kh');
    expect(verifyHostKey(entries, 'vm.lan', k('a').blob)).toEqual({ status: 'unknown', otherTypes: [k('r').type] });
  });

  it('refuses @revoked keys even when also listed as known, and ignores @cert-authority', () => {
    const text = `vm.lan ${k('a').type} ${k('a').b64}\n@revoked * ${k('a').type} ${k('a').b64}\n@cert-authority *.lan ${k('b').type} ${k('b').b64}\n`;
    const entries = parseKnownHosts(text, 'kh');
    expect(verifyHostKey(entries, 'vm.lan', k('a').blob).status).toBe('revoked');
    // A CA key presented as a host key is not trusted as one.
    expect(verifyHostKey(entries, 'x.lan', k('b').blob).status).toBe('unknown');
  });

  it('skips malformed lines without failing', () => {
    const entries = parseKnownHosts(`garbage\n@weird host ssh-ed25519 AAAA\n\u0000\u0001\nvm.lan ${k('a').type} ${k('a').b64}\n`, 'kh');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.line).toBe(4);
  });

  it('gives the same SHA256 fingerprint as ssh-keygen -l', () => {
    expect(fingerprintOfBlob(k('a').blob)).toBe(k('a').fp);
    expect(fingerprintOfBlob(k('r').blob)).toBe(k('r').fp);
  });

  it('appends hashed when the file is hashed, and ssh-keygen -F finds the new line', () => {
    const file = path.join(dir, 'append-hashed');
    fs.writeFileSync(file, `other ${k('b').type} ${k('b').b64}`); // no trailing newline
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    const e = appendKnownHost(file, '[127.0.0.1]:2200', k('a').blob);
    expect(e.hosts.startsWith('|1|')).toBe(true);
    expect(e.line).toBe(2);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', file], { encoding: 'utf8' });
    expect(found).toContain('line 2');
    expect(verifyHostKey(readKnownHosts(file), '[127.0.0.1]:2200', k('a').blob).status).toBe('known');
  });

  it('refuses to write a name that is really a list of patterns, and writes nothing', () => {
    const file = path.join(dir, 'refuse', 'known_hosts');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, `vm.lan ${k('a').type} ${k('a').b64}\n`);
    const before = fs.readFileSync(file, 'utf8');
    for (const name of ['evil.example,github.com,*.corp.example', '[evil.example,github.com]:2222', 'a b', '*', 'host?', '!host', 'a\nb ssh-ed25519 AAAA', '|1|x|y', '#c', '@revoked', '']) {
      expect(() => appendKnownHost(file, name, k('b').blob), JSON.stringify(name)).toThrow(/refusing to write .* to known_hosts/);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(verifyHostKey(readKnownHosts(file), 'github.com', k('b').blob).status).toBe('unknown');
  });

  it('appends plain names to a plain (or new) file', () => {
    const file = path.join(dir, 'sub', 'known_hosts');
    const e = appendKnownHost(file, 'vm.lan', k('a').blob);
    expect(e.line).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe(`vm.lan ${k('a').type} ${k('a').b64}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
