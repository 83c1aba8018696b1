// Resolves what the user typed (alias, user@host[:port]) into everything needed to
// connect: ~/.ssh/config through the `ssh-config` parser, then ringbufStudio.targets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { StudioError } from '../../util/errors';
import { parseTargetSpec } from './spec';

export interface ExtraTarget {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  proxyJump?: string;
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
  const extra = parsed.alias !== undefined ? opts.extraTargets?.find((t) => t.name === parsed.alias) : undefined;
  const useExtra = extra !== undefined && !configNamesHost(config, parsed.host);

  const lookupHost = useExtra ? extra.host : parsed.host;
  // Match exec is not evaluated: no command from a config file runs through a shell here.
  const computed = config.compute(lookupHost, { ignoreCase: true, matchExec: false });
  const get = (k: string): string | undefined => first(computed[k]);

  const user = parsed.user ?? (useExtra ? extra.user : undefined) ?? get('user') ?? localUser();
  const port =
    parsed.port ?? (useExtra ? extra.port : undefined) ?? parsePortValue(get('port'), spec) ?? 22;
  const rawHostName = useExtra ? extra.host : (get('hostname') ?? parsed.host);
  const hostName = expandTokens(rawHostName, { host: parsed.host, port, user, original: parsed.host });
  const tokens = { host: hostName, port, user, original: parsed.host };

  const configuredIds = [
    ...(useExtra && extra.identityFile ? [extra.identityFile] : []),
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

  const jumpText = (useExtra ? extra.proxyJump : undefined) ?? get('proxyjump');
  const jumps: ResolvedHost[] = [];
  if (jumpText && jumpText.toLowerCase() !== 'none') {
    for (const hop of jumpText.split(',').map((h) => h.trim()).filter(Boolean)) {
      // ProxyJump hops may carry ssh:// URLs; strip the scheme.
      const hopSpec = hop.replace(/^ssh:\/\//, '');
      const resolvedHop = resolveTarget(hopSpec, { ...opts, extraTargets: [] }, depth + 1);
      jumps.push(...resolvedHop.jumps, { ...resolvedHop, jumps: [] });
    }
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
    source: useExtra ? 'targets-setting' : configNamesHost(config, parsed.host) ? 'ssh-config' : 'spec',
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
