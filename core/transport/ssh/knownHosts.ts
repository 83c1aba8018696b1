// known_hosts reading, matching and appending (OpenSSH sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"). Matching is ours; fingerprints come from sshpk.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sshpk from 'sshpk';
import { StudioError } from '../../util/errors';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written: comma list of patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** Base64 of the SSH wire-format public key. */
  keyBase64: string;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** Same key type known with a different key: never accept. */
  | { status: 'changed'; entries: KnownHostEntry[] }
  /** Not known; `otherTypes` lists key types known for this host under other algorithms. */
  | { status: 'unknown'; otherTypes: string[] };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: ignore the line, as OpenSSH does
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) continue; // malformed line: skip
    entries.push({ file, line: i + 1, marker, hosts, keyType, keyBase64 });
  }
  return entries;
}

export function readKnownHosts(file: string): KnownHostEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return []; // a missing file just means "nothing known yet"
  }
  return parseKnownHosts(text, file);
}

/** OpenSSH glob: `*` any run, `?` one character; case-insensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    const pc = p[pi];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === t[ti])) {
      pi++;
      ti++;
    } else if (pc === '*') {
      starP = pi++;
      starT = ti;
    } else if (starP >= 0) {
      pi = starP + 1;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  const actual = crypto.createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

/** Does the host field of an entry match `name` (already in `[host]:port` form when needed)? */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatch(hosts, name);
  let positive = false;
  for (const pattern of hosts.split(',')) {
    if (pattern === '') continue;
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false; // a negated match vetoes the line
    } else if (globMatch(pattern, name)) {
      positive = true;
    }
  }
  return positive;
}

export function hashHostName(name: string, salt = crypto.randomBytes(20)): string {
  const hash = crypto.createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** Key type from an SSH wire-format key blob (its first string). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4 || len > 64) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function fingerprintOfBlob(blob: Buffer): string {
  try {
    return sshpk.parseKey(blob, 'rfc4253').fingerprint('sha256').toString();
  } catch {
    // sshpk does not know every key type; the fingerprint is the same formula.
    return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  }
}

export function fingerprintOfEntry(entry: KnownHostEntry): string {
  return fingerprintOfBlob(Buffer.from(entry.keyBase64, 'base64'));
}

/** Checks a presented host key against entries, for the known_hosts name of the host. */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOfBlob(keyBlob);
  const keyB64 = keyBlob.toString('base64');
  const sameType: KnownHostEntry[] = [];
  const otherTypes = new Set<string>();
  let known: KnownHostEntry | undefined;
  for (const e of entries) {
    if (e.marker === 'cert-authority') continue; // we do not do host certificates; never trusted as a plain key
    if (!hostFieldMatches(e.hosts, name)) continue;
    if (e.marker === 'revoked') {
      if (e.keyBase64 === keyB64) return { status: 'revoked', entry: e };
      continue;
    }
    if (e.keyBase64 === keyB64) known ??= e;
    else if (e.keyType === keyType) sameType.push(e);
    else otherTypes.add(e.keyType);
  }
  // Revoked keys also apply when listed for any host pattern ("*"): handled above via matching.
  if (known) return { status: 'known', entry: known };
  if (sameType.length) return { status: 'changed', entries: sameType };
  return { status: 'unknown', otherTypes: [...otherTypes] };
}

/** Key types known for the name (to prefer them in host key negotiation, as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker !== null || !hostFieldMatches(e.hosts, name)) continue;
    if (!types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/**
 * Why `name` cannot be written as a known_hosts hosts field, if it cannot: in that field
 * whitespace ends it, `,` separates patterns, `*` `?` are wildcards and `!` negates, a
 * newline starts a new line, and a leading `|` `#` `@` means a hash, a comment, a marker.
 * Writing such a name would make the user's own ssh trust this key for other hosts.
 */
export function knownHostsNameProblem(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (name === '' || /[\s,*?!\x00-\x1f\x7f]/.test(name) || /^[|#@]/.test(name)) {
    return `refusing to write ${JSON.stringify(name.slice(0, 120))} to known_hosts: a host name there cannot contain whitespace, ',', '*', '?', '!' or control characters (they would add patterns or lines)`;
  }
  return undefined;
}

/** Appends `name keytype key`, hashed when the file already uses hashed names. Refuses names that are patterns. */
export function appendKnownHost(file: string, name: string, keyBlob: Buffer): KnownHostEntry {
  const problem = knownHostsNameProblem(name);
  if (problem) throw new StudioError(problem, { code: 'EKNOWNHOSTSNAME', hint: 'connect by a plain host name or address (check the host in ringbufStudio.targets or HostKeyAlias in ~/.ssh/config)' });
  let existing = '';
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }
  const entries = parseKnownHosts(existing, file);
  const hashed = entries.some((e) => e.hosts.startsWith('|1|'));
  const hosts = hashed ? hashHostName(name) : name;
  const keyType = keyTypeOfBlob(keyBlob);
  const line = `${hosts} ${keyType} ${keyBlob.toString('base64')}\n`;
  const prefix = existing !== '' && !existing.endsWith('\n') ? '\n' : '';
  fs.appendFileSync(file, prefix + line, { mode: 0o600 });
  const lineNo = (existing + prefix + line).split('\n').length - 1;
  return { file, line: lineNo, marker: null, hosts, keyType, keyBase64: keyBlob.toString('base64') };
}
