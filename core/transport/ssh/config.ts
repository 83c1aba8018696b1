// Resolves what the user typed (alias, user@host[:port]) into everything needed to
// connect: ~/.ssh/config through the `ssh-config` parser, then ringbufStudio.targets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { StudioError } from '../../util/errors';
import { hostProblem, parseTargetSpec, userProblem } from './spec';

/**
 * One entry of the `ringbufStudio.targets` setting: the one declaration of its shape
 * (the extension reads it, the CLI could take it, resolveTarget uses it).
 */
export interface ExtraTarget {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string;
}

function badEntry(name: string, why: string): StudioError {
  return new StudioError(`ringbufStudio.targets entry ${JSON.stringify(name.slice(0, 80))}: ${why}`, {
    code: 'ETARGETSPEC',
    hint: 'fix the entry in your settings: name is a plain alias, host a DNS name or IP address, user a login name, port 1-65535, proxyJump a comma-separated list of [user@]host[:port]',
  });
}

/** The hops of a ProxyJump value (`ssh://` prefixes dropped); [] for `none`. */
export function proxyJumpHops(value: string): string[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value
    .split(',')
    .map((h) => h.trim().replace(/^ssh:\/\//, ''))
    .filter(Boolean);
}

/**
 * Checks a `ringbufStudio.targets` entry exactly as the CLI's target parser checks a spec:
 * the name must be a plain alias, host and user must be names the parser accepts, the port
 * a number in range, and every ProxyJump hop a valid target spec. A host like
 * `evil.example,github.com,*.corp.example` would otherwise become patterns in known_hosts.
 */
export function validateExtraTarget(raw: unknown): ExtraTarget {
  if (typeof raw !== 'object' || raw === null) throw badEntry('?', 'it is not an object with name and host');
  const o = raw as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : '';
  if (typeof o.name !== 'string' || typeof o.host !== 'string') throw badEntry(name || '?', 'it needs a string name and host');
  let alias: string | undefined;
  try {
    alias = parseTargetSpec(name).alias;
  } catch {
    alias = undefined;
  }
  if (alias !== name) throw badEntry(name, 'the name must be a plain alias (letters, digits, . _ % -)');
  const hostWhy = hostProblem(o.host);
  if (hostWhy) throw badEntry(name, hostWhy);
  const out: ExtraTarget = { name, host: o.host };
  if (o.user !== undefined) {
    const userWhy = typeof o.user === 'string' ? userProblem(o.user) : 'user is not a string';
    if (userWhy) throw badEntry(name, userWhy);
    out.user = o.user as string;
  }
  if (o.port !== undefined) {
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw badEntry(name, `port ${JSON.stringify(o.port)} is not a number 1-65535`);
    out.port = o.port;
  }
  if (o.identityFile !== undefined) {
    if (typeof o.identityFile !== 'string') throw badEntry(name, 'identityFile is not a string');
    out.identityFile = o.identityFile;
  }
  if (o.proxyJump !== undefined) {
    if (typeof o.proxyJump !== 'string') throw badEntry(name, 'proxyJump is not a string');
    for (const hop of proxyJumpHops(o.proxyJump)) {
      try {
        parseTargetSpec(hop);
      } catch (err) {
        throw badEntry(name, `proxyJump: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    out.proxyJump = o.proxyJump;
  }
  return out;
}

export interface ResolvedHost {
  /** The spec or hop as the user wrote it. */
  spec: string;
  hostName: string;
  port: number;
  user: string;
  /** Absolute paths, in the order to try. */
  identityFiles: string[];
  /** True when the files came from configuration (missing ones are then worth a warning). */
  identityFilesConfigured: boolean;
  identitiesOnly: boolean;
  /** Hosts to hop through, first one connected directly. */
  jumps: ResolvedHost[];
  /** Name used for known_hosts (HostKeyAlias, else HostName). */
  hostKeyName: string;
  userKnownHostsFiles: string[];
  /** Where the settings came from, for messages. */
  source: 'ssh-config' | 'targets-setting' | 'spec';
}

export interface ResolveOptions {
  sshConfigPath?: string;
  extraTargets?: ExtraTarget[];
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const MAX_JUMP_DEPTH = 8;

export function defaultSshConfigPath(): string {
  return path.join(os.homedir(), '.ssh', 'config');
}

/** Reads the config text with `Include` lines replaced by the included files' text. */
function readConfigText(file: string, depth = 0): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  if (depth > 8) return text;
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*include\s*[ =]\s*(.+?)\s*$/i.exec(line);
      if (!m?.[1]) return line;
      return m[1]
        .split(/\s+/)
        .flatMap((p) => expandIncludeGlob(expandTilde(p.replace(/^"|"$/g, '')), path.dirname(file)))
        .map((f) => readConfigText(f, depth + 1))
        .join('\n');
    })
    .join('\n');
}

function expandIncludeGlob(pattern: string, baseDir: string): string[] {
  const abs = path.isAbsolute(pattern) ? pattern : path.join(baseDir, pattern);
  const base = path.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  const dir = path.dirname(abs);
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

function loadConfig(configPath: string): SSHConfig {
  try {
    return SSHConfig.parse(readConfigText(configPath));
  } catch (err) {
    throw new StudioError(`cannot parse ssh config ${configPath}`, {
      code: 'ESSHCONFIG',
      hint: 'fix the syntax error (check it with `ssh -G <host> -F <file>`)',
      cause: err,
      detail: String(err),
    });
  }
}

function expandTilde(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** ssh_config(5) TOKENS: %h %p %r %u %d %n %%. */
function expandTokens(value: string, t: { host: string; port: number; user: string; original: string }): string {
  return value.replace(/%([%hprudnC])/g, (whole, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'h':
        return t.host;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      case 'u':
        return localUser();
      case 'd':
        return os.homedir();
      case 'n':
        return t.original;
      default:
        return whole;
    }
  });
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** True when a Host line names the alias literally (not only through a wildcard). */
function configNamesHost(config: SSHConfig, alias: string): boolean {
  for (const line of config) {
    if (!('param' in line) || !/^host$/i.test(line.param)) continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    if (values.some((v) => v.toLowerCase() === alias.toLowerCase())) return true;
  }
  return false;
}

function parsePortValue(text: string | undefined, where: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new StudioError(`invalid Port '${text}' for ${where}`, { code: 'ESSHCONFIG', hint: 'use a number 1-65535' });
  }
  return n;
}

export function resolveTarget(spec: string, opts: ResolveOptions = {}, depth = 0): ResolvedHost {
  if (depth > MAX_JUMP_DEPTH) {
    throw new StudioError(`ProxyJump chain for ${spec} is longer than ${MAX_JUMP_DEPTH} hops`, {
      code: 'ESSHCONFIG',
      hint: 'check ProxyJump lines in your ssh config for a loop',
    });
  }
  const configPath = opts.sshConfigPath ?? defaultSshConfigPath();
  const config = loadConfig(configPath);
  const parsed = parseTargetSpec(spec);
  const named = parsed.alias !== undefined ? opts.extraTargets?.find((t) => t.name === parsed.alias) : undefined;
  const useExtra = named !== undefined && !configNamesHost(config, parsed.host);
  // Settings may come from anywhere (a workspace): checked like a typed spec before any use.
  const extra = useExtra ? validateExtraTarget(named) : undefined;

  const lookupHost = extra ? extra.host : parsed.host;
  // Match exec is not evaluated: no command from a config file runs through a shell here.
  const computed = config.compute(lookupHost, { ignoreCase: true, matchExec: false });
  const get = (k: string): string | undefined => first(computed[k]);

  const user = parsed.user ?? extra?.user ?? get('user') ?? localUser();
  const port = parsed.port ?? extra?.port ?? parsePortValue(get('port'), spec) ?? 22;
  // A setting's host is a name as typed (validated); ssh_config's HostName may use %-tokens.
  const hostName = extra ? extra.host : expandTokens(get('hostname') ?? parsed.host, { host: parsed.host, port, user, original: parsed.host });
  const tokens = { host: hostName, port, user, original: parsed.host };

  const configuredIds = [
    ...(extra?.identityFile ? [extra.identityFile] : []),
    ...all(computed.identityfile),
  ]
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => {
      const p = expandTilde(expandTokens(f, tokens));
      return path.isAbsolute(p) ? p : path.join(os.homedir(), p);
    });
  const identityFiles = configuredIds.length
    ? [...new Set(configuredIds)]
    : DEFAULT_IDENTITIES.map((n) => path.join(os.homedir(), '.ssh', n));

  const jumpText = extra?.proxyJump ?? get('proxyjump');
  const jumps: ResolvedHost[] = [];
  for (const hopSpec of jumpText ? proxyJumpHops(jumpText) : []) {
    const resolvedHop = resolveTarget(hopSpec, { ...opts, extraTargets: [] }, depth + 1);
    jumps.push(...resolvedHop.jumps, { ...resolvedHop, jumps: [] });
  }

  const knownFiles = all(computed.userknownhostsfile)
    .flatMap((v) => v.split(/\s+/))
    .filter(Boolean)
    .map((f) => expandTilde(expandTokens(f, tokens)));

  return {
    spec,
    hostName,
    port,
    user,
    identityFiles,
    identityFilesConfigured: configuredIds.length > 0,
    identitiesOnly: (get('identitiesonly') ?? 'no').toLowerCase() === 'yes',
    jumps,
    hostKeyName: get('hostkeyalias') ?? hostName,
    userKnownHostsFiles: knownFiles,
    source: extra ? 'targets-setting' : configNamesHost(config, parsed.host) ? 'ssh-config' : 'spec',
  };
}

/** Hosts for the Targets view: every non-wildcard Host alias in the config. */
export function listSshHosts(opts: { sshConfigPath?: string } = {}): Array<{
  name: string;
  hostName: string;
  user?: string;
  port?: number;
}> {
  const config = loadConfig(opts.sshConfigPath ?? defaultSshConfigPath());
  const out: Array<{ name: string; hostName: string; user?: string; port?: number }> = [];
  const seen = new Set<string>();
  for (const line of config) {
    if (!('param' in line) || !/^host$/i.test(line.param)) continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    for (const name of values) {
      if (name === '' || /[*?!]/.test(name) || seen.has(name)) continue;
      seen.add(name);
      const c = config.compute(name, { ignoreCase: true, matchExec: false });
      const entry: { name: string; hostName: string; user?: string; port?: number } = {
        name,
        hostName: first(c.hostname) ?? name,
      };
      const user = first(c.user);
      if (user !== undefined) entry.user = user;
      const port = Number(first(c.port));
      if (Number.isInteger(port) && port > 0) entry.port = port;
      out.push(entry);
    }
  }
  return out;
}
