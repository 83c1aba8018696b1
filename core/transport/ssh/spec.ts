import { StudioError } from '../../util/errors';

export interface TargetSpec {
  /** Set when the spec is a bare name: it may be a Host alias in ssh_config. */
  alias?: string;
  user?: string;
  host: string;
  port?: number;
}

// Characters OpenSSH itself refuses in host and user names from the command line
// (they would only ever be useful to someone trying to reach a shell).
const HOST_RE = /^[A-Za-z0-9._%-]+$|^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;
const USER_RE = /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/;

/** Why `host` cannot be a host name (what the target parser refuses), or undefined when it can. */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'the host is empty';
  if (host.startsWith('-') || !HOST_RE.test(host)) return `host name '${host}' contains characters that are not allowed`;
  return undefined;
}

/** Why `user` cannot be a remote user name, or undefined when it can. */
export function userProblem(user: string): string | undefined {
  return USER_RE.test(user) ? undefined : `user name '${user}' contains characters that are not allowed`;
}

function badSpec(spec: string, why: string): StudioError {
  return new StudioError(`invalid target '${spec}': ${why}`, {
    code: 'ETARGETSPEC',
    hint: 'use an ssh config alias, user@host, user@host:port or user@[v6addr]:port',
  });
}

function parsePort(spec: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw badSpec(spec, `port '${text}' is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw badSpec(spec, `port ${port} is out of range 1-65535`);
  return port;
}

/** alias | host | user@host | user@host:port | [v6]:port | user@[v6]:port */
export function parseTargetSpec(spec: string): TargetSpec {
  const s = spec.trim();
  if (s === '') throw badSpec(spec, 'it is empty');
  let rest = s;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const problem = userProblem(user);
    if (problem) throw badSpec(spec, problem);
  }
  let host: string;
  let port: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw badSpec(spec, "'[' without matching ']'");
    host = rest.slice(1, close);
    const tail = rest.slice(close + 1);
    if (tail !== '') {
      if (!tail.startsWith(':')) throw badSpec(spec, `unexpected '${tail}' after ']'`);
      port = parsePort(spec, tail.slice(1));
    }
  } else {
    const colons = rest.split(':').length - 1;
    if (colons === 1) {
      const i = rest.indexOf(':');
      host = rest.slice(0, i);
      port = parsePort(spec, rest.slice(i + 1));
    } else {
      host = rest; // bare IPv6 address (no port) or plain name
    }
  }
  const problem = hostProblem(host);
  if (problem) throw badSpec(spec, problem);
  const result: TargetSpec = { host };
  if (user !== undefined) result.user = user;
  if (port !== undefined) result.port = port;
  if (user === undefined && port === undefined && !s.startsWith('[')) result.alias = host;
  return result;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}
