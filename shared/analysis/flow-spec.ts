// Parsing of the user's flow selector ("tcp 192.168.200.22:80").

import type { FlowSpec } from './types.ts';

const PROTOS = new Set(['tcp', 'udp', 'icmp', 'any']);

/** "1.2.3.4", "1.2.3.4:80", "[fd00::1]:80", "fd00::1" → address and optional port. */
function parseEndpoint(s: string, what: string, input: string): { addr: string; port?: number } {
  let addr = s;
  let portText: string | undefined;
  const br = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (br) {
    addr = br[1]!;
    portText = br[2];
  } else if (/^[0-9.]+(:\d+)?$/.test(s)) {
    const i = s.indexOf(':');
    if (i >= 0) { addr = s.slice(0, i); portText = s.slice(i + 1); }
  } else if (!/^[0-9a-fA-F:]+$/.test(s) || !s.includes(':')) {
    throw new Error(`flow "${input}": ${what} "${s}" is not an IPv4/IPv6 address (optionally with :port, IPv6 as [addr]:port)`);
  }
  if (addr.includes('.') && !addr.includes(':')) {
    const parts = addr.split('.');
    if (parts.length !== 4 || parts.some((p) => p === '' || Number(p) > 255)) {
      throw new Error(`flow "${input}": ${what} "${addr}" is not a valid IPv4 address`);
    }
  }
  if (portText === undefined) return { addr: addr.toLowerCase() };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`flow "${input}": port "${portText}" is out of range`);
  return { addr: addr.toLowerCase(), port };
}

/**
 * Accepted forms: `PROTO DST[:PORT]` and `PROTO SRC[:PORT] > DST[:PORT]` ("->" works too),
 * PROTO one of tcp, udp, icmp, any. Throws an Error that says what is wrong.
 */
export function parseFlowSpec(s: string): FlowSpec {
  const input = s;
  const text = s.trim().replace(/\s*->\s*/, ' > ').replace(/\s*>\s*/, ' > ');
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new Error('flow: empty selector; expected e.g. "tcp 192.168.200.22:80"');
  const proto = tokens[0]!.toLowerCase();
  if (!PROTOS.has(proto)) throw new Error(`flow "${input}": protocol "${tokens[0]}" is not one of tcp, udp, icmp, any`);
  const rest = tokens.slice(1);
  let spec: FlowSpec;
  if (rest.length === 1) {
    const d = parseEndpoint(rest[0]!, 'destination', input);
    spec = { proto: proto as FlowSpec['proto'], dst: d.addr };
    if (d.port !== undefined) spec.dport = d.port;
  } else if (rest.length === 3 && rest[1] === '>') {
    const a = parseEndpoint(rest[0]!, 'source', input);
    const d = parseEndpoint(rest[2]!, 'destination', input);
    spec = { proto: proto as FlowSpec['proto'], src: a.addr, dst: d.addr };
    if (a.port !== undefined) spec.sport = a.port;
    if (d.port !== undefined) spec.dport = d.port;
  } else {
    throw new Error(`flow "${input}": expected "PROTO DST[:PORT]" or "PROTO SRC[:PORT] > DST[:PORT]"`);
  }
  if (proto === 'icmp' && (spec.sport !== undefined || spec.dport !== undefined)) {
    throw new Error(`flow "${input}": icmp has no ports`);
  }
  return spec;
}
