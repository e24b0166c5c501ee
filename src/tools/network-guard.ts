/**
 * Where a connection may reach. A chat-added URL must be https (plain http only to a loopback
 * name, and only outside production), and the address a socket actually connected to must not be
 * loopback, link-local or private unless the operator allows it: checked on the connected socket,
 * not on a DNS answer, so a name that resolves differently on the second lookup gains nothing.
 */
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { QuorumError } from '../core/errors.js';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Whether an address is loopback, link-local, private or otherwise not a public host's. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(bare);
  if (family === 0) return true;
  return blocked.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A URL an admin typed in chat: null when acceptable, else why not (in one sentence). */
export function chatUrlProblem(raw: string, production: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'That is not a URL.';
  }
  if (url.username || url.password) return 'Put credentials in the connection’s auth, not in its URL.';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_NAMES.has(url.hostname) && !production) return null;
  return 'Connections must use https (plain http only to this machine, and not in production).';
}

export interface NetworkPolicy {
  allowPrivate: boolean;
  connectTimeoutMs: number;
}

/** A fetch whose every socket is checked once connected: a private address is refused unless allowed. */
export function guardedFetch(policy: NetworkPolicy): { fetch: typeof globalThis.fetch; close(): Promise<void> } {
  const base = buildConnector({ timeout: policy.connectTimeoutMs });
  const agent = new Agent({
    connect: (options, callback) =>
      base(options, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        const address = socket.remoteAddress ?? '';
        if (!policy.allowPrivate && isPrivateAddress(address)) {
          socket.destroy();
          return callback(new QuorumError('TOOL_ADDRESS_REFUSED', 'the server is on a private, loopback or link-local address, which this installation does not allow'), null);
        }
        return callback(null, socket);
      }),
  });
  const fetch = ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as typeof globalThis.fetch;
  return { fetch, close: () => agent.close() };
}
