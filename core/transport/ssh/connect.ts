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

/** The known_hosts files that apply to a host, and its name there. */
interface KnownHostsView {
  /** Where an accepted key is written. */
  file: string;
  /** `host` or `[host]:port`. */
  name: string;
  entries(): KnownHostEntry[];
}

function knownHostsView(host: ResolvedHost, ctx: ConnectContext): KnownHostsView {
  const file = ctx.knownHostsPath ?? host.userKnownHostsFiles[0] ?? path.join(os.homedir(), '.ssh', 'known_hosts');
  return {
    file,
    name: knownHostsName(host.hostKeyName, host.port),
    entries: () => [
      ...readKnownHosts(file),
      ...(ctx.knownHostsPath ? [] : host.userKnownHostsFiles.slice(1).flatMap(readKnownHosts)),
      ...readKnownHosts(GLOBAL_KNOWN_HOSTS),
    ],
  };
}

/**
 * Decides on the host key a server presented: known → accept; revoked or changed → never;
 * unknown → ask (when we can) and save what the user accepts. Returns why it is refused.
 */
async function checkHostKey(host: ResolvedHost, ctx: ConnectContext, kh: KnownHostsView, key: Buffer): Promise<StudioError | undefined> {
  const log = ctx.log ?? ((): void => undefined);
  const verdict = verifyHostKey(kh.entries(), kh.name, key);
  if (verdict.status === 'known') {
    log('debug', `host key of ${kh.name} matches ${tildePath(verdict.entry.file)} line ${verdict.entry.line}`);
    return undefined;
  }
  const refused = hostKeyError(host, kh.name, key, kh.file, verdict);
  if (refused) {
    log('warn', refused.message);
    return refused;
  }
  if (!ctx.confirmHostKey) return unknownHostKeyError(kh.name, key, kh.file, 'refusing to connect without confirmation');
  const info = { host: host.hostKeyName, port: host.port, keyType: keyTypeOfBlob(key), fingerprint: fingerprintOfBlob(key) };
  let accepted: boolean;
  try {
    accepted = await ctx.confirmHostKey(info);
  } catch (err) {
    return unknownHostKeyError(kh.name, key, kh.file, `asking failed: ${String(err)}`);
  }
  if (!accepted) return unknownHostKeyError(kh.name, key, kh.file, 'the key was not accepted');
  try {
    const added = appendKnownHost(kh.file, kh.name, key);
    log('info', `added host key of ${kh.name} (${info.keyType} ${info.fingerprint}) to ${tildePath(added.file)} line ${added.line}`);
  } catch (err) {
    // A name that would add patterns to known_hosts: never connect under it.
    if (err instanceof StudioError && err.code === 'EKNOWNHOSTSNAME') return err;
    log('warn', `accepted the host key of ${kh.name} but could not save it to ${kh.file}: ${String(err)}`);
  }
  return undefined;
}

/** Agent first, then identity files (loaded lazily, so passphrases are asked only when needed); remembers what was tried. */
class AuthPlan {
  readonly tried: AuthAttempt[] = [];
  serverMethods: string[] | null = null;
  private readonly steps: string[] = []; // 'agent' or an identity file path
  private readonly agentSock: string | undefined;
  private step = 0;
  private current: AuthAttempt | undefined;

  constructor(
    private readonly host: ResolvedHost,
    private readonly ctx: ConnectContext,
  ) {
    this.agentSock = agentSocketPath(ctx);
    if (this.agentSock && !host.identitiesOnly) this.steps.push('agent');
    this.steps.push(...host.identityFiles);
  }

  async next(methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> {
    if (methodsLeft) this.serverMethods = methodsLeft;
    if (this.current) {
      this.current.outcome = this.current.outcome === 'trying' ? 'refused by the server' : this.current.outcome;
      this.current = undefined;
    }
    if (methodsLeft && !methodsLeft.includes('publickey')) return false;
    while (this.step < this.steps.length) {
      const item = this.steps[this.step++];
      if (item === undefined) break;
      if (item === 'agent') {
        this.attempt(`ssh-agent (${this.agentSock})`);
        return { type: 'agent', username: this.host.user, agent: this.agentSock ?? '' };
      }
      const k = await loadIdentity(item, this.ctx, this.tried, this.host.identityFilesConfigured);
      if (!k) continue;
      this.attempt(tildePath(k.file));
      return { type: 'publickey', username: this.host.user, key: k.key };
    }
    return false;
  }

  accepted(): void {
    if (this.current) this.current.outcome = 'accepted';
  }

  agentFailed(message: string): void {
    if (this.current) this.current.outcome = `agent error: ${message}`;
  }

  private attempt(what: string): void {
    this.current = { what, outcome: 'trying' };
    this.tried.push(this.current);
  }
}

function clientConfig(host: ResolvedHost, ctx: ConnectContext, kh: KnownHostsView, sock: Duplex | undefined): ConnectConfig {
  const preferred = knownKeyTypes(kh.entries(), kh.name).flatMap((t) => ALGOS_FOR_KEY_TYPE[t] ?? []);
  return {
    host: host.hostName,
    port: host.port,
    username: host.user,
    readyTimeout: ctx.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    keepaliveInterval: KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    // Compression stays off: SSH is the bottleneck remotely and zlib costs ~2.5x throughput.
    algorithms: {
      compress: ['none'],
      ...(preferred.length ? { serverHostKey: { remove: preferred, prepend: preferred } as never } : {}),
    },
    ...(sock ? { sock } : {}),
  };
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;

/** Connects one hop (over `sock` when it rides on a previous hop). */
function connectOne(host: ResolvedHost, ctx: ConnectContext, sock?: Duplex): Promise<Hop> {
  const kh = knownHostsView(host, ctx);
  const auth = new AuthPlan(host, ctx);
  return new Promise<Hop>((resolve, reject) => {
    const client = new Client();
    let hostKeyFingerprint = '';
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
    const config: ConnectConfig = {
      ...clientConfig(host, ctx, kh, sock),
      authHandler: (methodsLeft, _partial, next) => {
        auth.next(methodsLeft).then(
          (m) => next(m === false ? (false as never) : m),
          (err: unknown) => {
            fatal = new StudioError(`authentication for ${describeTarget(host)} failed: ${String(err)}`, { code: 'ESSHAUTH', cause: err });
            next(false as never);
          },
        );
      },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        hostKeyFingerprint = fingerprintOfBlob(key);
        checkHostKey(host, ctx, kh, key).then(
          (refused) => {
            fatal ??= refused;
            verify(refused === undefined);
          },
          (err: unknown) => {
            fatal ??= new StudioError(`checking the host key of ${kh.name} failed: ${String(err)}`, { code: 'EHOSTKEY', cause: err });
            verify(false);
          },
        );
      },
    };
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      ctx.signal?.removeEventListener('abort', onAbort);
      auth.accepted();
      ctx.log?.('info', `connected to ${describeTarget(host)}`);
      resolve({ client, hostKeyFingerprint });
    });
    client.on('error', (err: Error & { level?: string }) => {
      // Agent trouble is not fatal: ssh2 moves on to the next method.
      if (err.level === 'agent') auth.agentFailed(err.message);
      else if (!settled) fail(fatal ?? mapConnectError(err, host, auth.tried, auth.serverMethods, config.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS));
    });
    client.on('close', () => {
      if (!settled) fail(fatal ?? new StudioError(`connection to ${describeTarget(host)} closed during setup`, { code: 'ESSH', hint: 'check the sshd logs on the host (journalctl -u ssh)' }));
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
