// Opens authenticated ssh2 connections: host key verification against
// known_hosts, agent and identity-file auth with passphrase prompts, ProxyJump
// hops, keepalives, compression off, and errors that say what to do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, utils as ssh2utils } from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ConnectConfig, ParsedKey } from 'ssh2';
import { StudioError } from '../../util/errors';
import type { SecretRef } from '../secrets';
import type { LogFn } from '../types';
import type { ResolvedHost } from './config';
import {
  appendKnownHost,
  fingerprintOfBlob,
  fingerprintOfEntry,
  keyTypeOfBlob,
  knownKeyTypes,
  readKnownHosts,
  verifyHostKey,
} from './knownHosts';
import type { KnownHostEntry } from './knownHosts';
import { knownHostsName } from './spec';

export type { LogFn } from '../types';

export interface ConnectContext {
  knownHostsPath?: string;
  confirmHostKey?: (info: { host: string; port: number; keyType: string; fingerprint: string }) => Promise<boolean>;
  getPassphrase?: (keyPath: string) => Promise<string | undefined>;
  /** Told when a passphrase did not decrypt its key, so it is forgotten at once. */
  secretRejected?: (ref: SecretRef) => void | Promise<void>;
  log?: LogFn;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  /** Agent socket; defaults to $SSH_AUTH_SOCK. */
  agentSocket?: string;
}

/** A connected client and the jump connections it rides on (closed together). */
export interface SshLink {
  client: Client;
  jumps: Client[];
  host: ResolvedHost;
  /** SHA256 fingerprint of the host key the target presented (and we verified). */
  hostKeyFingerprint: string;
  close(): void;
}

/** One authenticated hop and the fingerprint of the host key it presented. */
interface Hop {
  client: Client;
  hostKeyFingerprint: string;
}

export const KEEPALIVE_INTERVAL_MS = 5000;
export const KEEPALIVE_COUNT_MAX = 3;

const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

function tildePath(p: string): string {
  const home = os.homedir();
  return p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}

function describeTarget(h: ResolvedHost): string {
  return `${h.user}@${h.hostName}:${h.port}`;
}

// rsa keys in known_hosts are "ssh-rsa"; the host key algorithms that use them differ.
const ALGOS_FOR_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

interface AuthAttempt {
  what: string;
  outcome: string;
}

interface PreparedKey {
  file: string;
  key: ParsedKey;
}

/** Reads and decrypts an identity file; undefined (with a recorded reason) when unusable. */
async function loadIdentity(file: string, ctx: ConnectContext, tried: AuthAttempt[], configured: boolean): Promise<PreparedKey | undefined> {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    if (configured) tried.push({ what: tildePath(file), outcome: 'file not found' });
    return undefined;
  }
  let parsed = ssh2utils.parseKey(data);
  if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
    if (!ctx.getPassphrase) {
      tried.push({ what: tildePath(file), outcome: 'encrypted, and no way to ask for its passphrase' });
      return undefined;
    }
    const passphrase = await ctx.getPassphrase(file);
    if (passphrase === undefined) {
      tried.push({ what: tildePath(file), outcome: 'encrypted; passphrase prompt cancelled' });
      return undefined;
    }
    parsed = ssh2utils.parseKey(data, passphrase);
    if (parsed instanceof Error) {
      tried.push({ what: tildePath(file), outcome: 'wrong passphrase (forgotten; you are asked again next time)' });
      await ctx.secretRejected?.({ kind: 'key-passphrase', keyFile: file });
      return undefined;
    }
  }
  if (parsed instanceof Error) {
    tried.push({ what: tildePath(file), outcome: `cannot read key: ${parsed.message}` });
    return undefined;
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key?.isPrivateKey()) {
    tried.push({ what: tildePath(file), outcome: 'not a private key' });
    return undefined;
  }
  return { file, key };
}

function agentSocketPath(ctx: ConnectContext): string | undefined {
  const sock = ctx.agentSocket ?? process.env.SSH_AUTH_SOCK;
  if (!sock) return undefined;
  try {
    return fs.statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

function hostKeyError(host: ResolvedHost, name: string, keyBlob: Buffer, knownFile: string, verdict: ReturnType<typeof verifyHostKey>): StudioError | undefined {
  const fp = fingerprintOfBlob(keyBlob);
  const keyType = keyTypeOfBlob(keyBlob);
  if (verdict.status === 'revoked') {
    return new StudioError(`host key of ${name} (${keyType} ${fp}) is marked @revoked in ${tildePath(verdict.entry.file)} line ${verdict.entry.line}; refusing to connect`, {
      code: 'EHOSTKEYREVOKED',
      hint: 'this key must not be trusted; ask the host administrator for the current host key',
    });
  }
  if (verdict.status === 'changed') {
    const old: KnownHostEntry | undefined = verdict.entries[0];
    const where = old ? `${tildePath(old.file)} line ${old.line}` : tildePath(knownFile);
    const oldFp = old ? fingerprintOfEntry(old) : '?';
    return new StudioError(
      `WARNING: the host key of ${name} has CHANGED — possible man-in-the-middle attack. ` +
        `The server offered ${keyType} ${fp}, but ${where} has ${old?.keyType ?? keyType} ${oldFp}. Refusing to connect.`,
      {
        code: 'EHOSTKEYCHANGED',
        hint: old
          ? `if the host was reinstalled and you trust the new key, remove line ${old.line} of ${tildePath(old.file)} (ssh-keygen -R '${name}' -f ${tildePath(old.file)}) and connect again`
          : `verify the new key with the host administrator, then update ${tildePath(knownFile)}`,
      },
    );
  }
  void host;
  return undefined;
}

function unknownHostKeyError(name: string, keyBlob: Buffer, knownFile: string, reason: string): StudioError {
  const fp = fingerprintOfBlob(keyBlob);
  return new StudioError(`host key of ${name} is not known (${keyTypeOfBlob(keyBlob)} ${fp}); ${reason}`, {
    code: 'EHOSTKEYUNKNOWN',
    hint:
      `check the fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host), then ` +
      `run again with --accept-new-host-key, or add it with: ssh-keyscan -p ${name.startsWith('[') ? name.replace(/^\[.*\]:/, '') : '22'} ${name.replace(/^\[(.*)\]:\d+$/, '$1')} >> ${tildePath(knownFile)}`,
  });
}

function mapConnectError(err: Error & { code?: string; level?: string }, host: ResolvedHost, tried: AuthAttempt[], serverMethods: string[] | null, readyTimeoutMs: number): StudioError {
  const where = describeTarget(host);
  const code = err.code;
  if (code === 'ECONNREFUSED') {
    return new StudioError(`connection refused by ${host.hostName} port ${host.port}`, {
      code: 'ESSHREFUSED',
      hint: `is sshd running on ${host.hostName} and listening on port ${host.port}? Check the Port in your ssh config or the target spec`,
      cause: err,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new StudioError(`unknown host '${host.hostName}' (DNS lookup failed)`, {
      code: 'ESSHHOST',
      hint: `check the spelling, or add a Host entry with HostName to ~/.ssh/config (target '${host.spec}')`,
      cause: err,
    });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || err.level === 'client-timeout' || /timed out/i.test(err.message)) {
    return new StudioError(`timed out connecting to ${where} after ${Math.round(readyTimeoutMs / 1000)} s`, {
      code: 'ESSHTIMEOUT',
      hint: 'is the host up and reachable (VPN, firewall, ProxyJump)? Try `ssh -v` to the same target',
      cause: err,
    });
  }
  if (err.level === 'client-authentication') {
    const list = tried.length ? tried.map((t) => `${t.what}: ${t.outcome}`).join('; ') : 'no usable keys';
    return new StudioError(`authentication failed for ${where}; tried: ${list}`, {
      code: 'ESSHAUTH',
      hint:
        `add your public key to ~${host.user}/.ssh/authorized_keys on the host (ssh-copy-id -p ${host.port} ${host.user}@${host.hostName}), ` +
        `load it into ssh-agent (ssh-add), or set IdentityFile for this host in ~/.ssh/config` +
        (serverMethods ? ` (server accepts: ${serverMethods.join(', ')})` : ''),
      cause: err,
    });
  }
  if (code === 'ECONNRESET' || /lost before handshake/i.test(err.message)) {
    return new StudioError(`${where} closed the connection before the SSH handshake`, {
      code: 'ESSHRESET',
      hint: 'sshd there may be restarting (the host rebooting), or a proxy/firewall in between drops it: try again in a moment, or check with `ssh -v` to the same target',
      cause: err,
    });
  }
  return new StudioError(`ssh connection to ${where} failed: ${err.message}`, { code: 'ESSH', cause: err });
}

/** Connects one hop (over `sock` when it rides on a previous hop). */
function connectOne(host: ResolvedHost, ctx: ConnectContext, sock?: Duplex): Promise<Hop> {
  const log = ctx.log ?? ((): void => undefined);
  const knownFile = ctx.knownHostsPath ?? host.userKnownHostsFiles[0] ?? path.join(os.homedir(), '.ssh', 'known_hosts');
  const readEntries = (): KnownHostEntry[] => [
    ...readKnownHosts(knownFile),
    ...(ctx.knownHostsPath ? [] : host.userKnownHostsFiles.slice(1).flatMap(readKnownHosts)),
    ...readKnownHosts(GLOBAL_KNOWN_HOSTS),
  ];
  const name = knownHostsName(host.hostKeyName, host.port);
  const preferred = knownKeyTypes(readEntries(), name).flatMap((t) => ALGOS_FOR_KEY_TYPE[t] ?? []);
  const readyTimeoutMs = ctx.readyTimeoutMs ?? 20_000;

  return new Promise<Hop>((resolve, reject) => {
    const client = new Client();
    let hostKeyFingerprint = '';
    const tried: AuthAttempt[] = [];
    let serverMethods: string[] | null = null;
    let fatal: StudioError | undefined;
    let settled = false;

    const fail = (err: StudioError): void => {
      if (settled) return;
      settled = true;
      ctx.signal?.removeEventListener('abort', onAbort);
      client.end();
      client.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new StudioError(`connecting to ${describeTarget(host)} was cancelled`, { code: 'EABORTED' }));
    if (ctx.signal?.aborted) {
      onAbort();
      return;
    }
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    // Auth plan: agent first, then identity files (loaded lazily so passphrases are asked only when needed).
    const agentSock = agentSocketPath(ctx);
    const plan: string[] = []; // 'agent' or an identity file path
    if (agentSock && !host.identitiesOnly) plan.push('agent');
    plan.push(...host.identityFiles);
    let step = 0;
    let current: AuthAttempt | undefined;

    const nextAuth = async (methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> => {
      if (methodsLeft) serverMethods = methodsLeft;
      if (current) {
        current.outcome = current.outcome === 'trying' ? 'refused by the server' : current.outcome;
        current = undefined;
      }
      const pk = !methodsLeft || methodsLeft.includes('publickey');
      while (step < plan.length) {
        const item = plan[step++];
        if (item === undefined) break;
        if (!pk) break;
        if (item === 'agent') {
          current = { what: `ssh-agent (${agentSock})`, outcome: 'trying' };
          tried.push(current);
          return { type: 'agent', username: host.user, agent: agentSock ?? '' };
        }
        const k = await loadIdentity(item, ctx, tried, host.identityFilesConfigured);
        if (!k) continue;
        current = { what: tildePath(k.file), outcome: 'trying' };
        tried.push(current);
        return { type: 'publickey', username: host.user, key: k.key };
      }
      return false;
    };

    const config: ConnectConfig = {
      host: host.hostName,
      port: host.port,
      username: host.user,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      // Compression stays off: SSH is the bottleneck remotely and zlib costs ~2.5x throughput.
      algorithms: {
        compress: ['none'],
        ...(preferred.length ? { serverHostKey: { remove: preferred, prepend: preferred } as never } : {}),
      },
      authHandler: (methodsLeft, _partial, next) => {
        nextAuth(methodsLeft).then(
          (m) => next(m === false ? (false as never) : m),
          (err: unknown) => {
            fatal = new StudioError(`authentication for ${describeTarget(host)} failed: ${String(err)}`, { code: 'ESSHAUTH', cause: err });
            next(false as never);
          },
        );
      },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        hostKeyFingerprint = fingerprintOfBlob(key);
        const verdict = verifyHostKey(readEntries(), name, key);
        if (verdict.status === 'known') {
          log('debug', `host key of ${name} matches ${tildePath(verdict.entry.file)} line ${verdict.entry.line}`);
          verify(true);
          return;
        }
        const refused = hostKeyError(host, name, key, knownFile, verdict);
        if (refused) {
          fatal = refused;
          log('warn', refused.message);
          verify(false);
          return;
        }
        if (!ctx.confirmHostKey) {
          fatal = unknownHostKeyError(name, key, knownFile, 'refusing to connect without confirmation');
          verify(false);
          return;
        }
        const info = { host: host.hostKeyName, port: host.port, keyType: keyTypeOfBlob(key), fingerprint: fingerprintOfBlob(key) };
        ctx.confirmHostKey(info).then(
          (ok) => {
            if (!ok) {
              fatal = unknownHostKeyError(name, key, knownFile, 'the key was not accepted');
              verify(false);
              return;
            }
            try {
              const added = appendKnownHost(knownFile, name, key);
              log('info', `added host key of ${name} (${info.keyType} ${info.fingerprint}) to ${tildePath(added.file)} line ${added.line}`);
            } catch (err) {
              if (err instanceof StudioError && err.code === 'EKNOWNHOSTSNAME') {
                fatal = err; // a name that would add patterns to known_hosts: never connect under it
                verify(false);
                return;
              }
              log('warn', `accepted the host key of ${name} but could not save it to ${knownFile}: ${String(err)}`);
            }
            verify(true);
          },
          (err: unknown) => {
            fatal = unknownHostKeyError(name, key, knownFile, `asking failed: ${String(err)}`);
            verify(false);
          },
        );
      },
      ...(sock ? { sock } : {}),
    };

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      ctx.signal?.removeEventListener('abort', onAbort);
      if (current) current.outcome = 'accepted';
      log('info', `connected to ${describeTarget(host)}`);
      resolve({ client, hostKeyFingerprint });
    });
    client.on('error', (err: Error & { level?: string }) => {
      // Agent trouble is not fatal: ssh2 moves on to the next method.
      if (err.level === 'agent') {
        if (current) current.outcome = `agent error: ${err.message}`;
        return;
      }
      if (!settled) fail(fatal ?? mapConnectError(err, host, tried, serverMethods, readyTimeoutMs));
    });
    client.on('close', () => {
      if (!settled) {
        fail(fatal ?? new StudioError(`connection to ${describeTarget(host)} closed during setup`, { code: 'ESSH', hint: 'check the sshd logs on the host (journalctl -u ssh)' }));
      }
    });
    try {
      client.connect(config);
    } catch (err) {
      fail(new StudioError(`cannot connect to ${describeTarget(host)}: ${String(err)}`, { code: 'ESSH', cause: err }));
    }
  });
}

function forwardOut(client: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err) reject(err);
      else resolve(stream);
    });
  });
}

/** Connects through every ProxyJump hop (each verified and authenticated) to the host. */
export async function openSshLink(host: ResolvedHost, ctx: ConnectContext): Promise<SshLink> {
  const jumps: Client[] = [];
  let hostKeyFingerprint = '';
  const closeAll = (): void => {
    for (const c of jumps) c.end();
  };
  try {
    let sock: Duplex | undefined;
    for (const hop of [...host.jumps, host]) {
      const prev = jumps[jumps.length - 1];
      if (prev) {
        try {
          sock = await forwardOut(prev, hop.hostName, hop.port);
        } catch (err) {
          throw new StudioError(`jump host could not reach ${hop.hostName}:${hop.port}: ${String(err)}`, {
            code: 'ESSHJUMP',
            hint: `check that ${hop.hostName}:${hop.port} is reachable from the jump host and that it allows TCP forwarding`,
            cause: err,
          });
        }
      }
      const connected = await connectOne(hop, ctx, sock);
      jumps.push(connected.client);
      hostKeyFingerprint = connected.hostKeyFingerprint;
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  const client = jumps.pop();
  if (!client) throw new StudioError('internal: no ssh client', { code: 'ESSH' });
  return {
    client,
    jumps,
    host,
    hostKeyFingerprint,
    close: (): void => {
      client.end();
      closeAll();
    },
  };
}
