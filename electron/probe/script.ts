// What the probe runs on each host, as data: the fixed far-end scripts (no value of ours inside them),
// the values they read on stdin, the splitting of their output back into one text per command, the
// removal of secrets, the capture filter and the test command. Pure functions, tested without hosts.
import { isIP } from 'node:net';
import { validateSshHost, validateSshUser } from '../../shared/ipc/contract.ts';
import { isInterfaceName, visible } from '../../shared/util/shell.ts';
import type { ProbeEnd, ProbeOptions, ProbeTestKind } from './types.ts';

/** Largest output kept per evidence command; the rest is dropped and said. */
export const MAX_SECTION_BYTES = 16 * 1024 * 1024;

export class ProbeInputError extends Error {}

/**
 * One evidence command. `id` is the section number in the far-end script and the stem of the saved
 * file; `tool` is what must exist for it to run; `echo` prefixes the saved text with `$ command` so the
 * evidence reader knows the form (family, table) even when the output alone is ambiguous.
 */
export interface EvidenceCommand {
  id: number;
  file: string;
  command: string;
  tool: string;
  /** Needs root (run through sudo -n when the user allowed sudo on that host). */
  privileged: boolean;
  echo: boolean;
}

/**
 * The far-end script text for one list of commands. It must stay free of single quotes,
 * backslashes and newlines (see remote.ts): it travels inside `exec sh -c '…'` through whatever login
 * shell the account has. Values (marker, sudo, family, epoch) arrive on stdin.
 *
 * Each command's output is framed by `MARK B id` and `MARK E id status` lines on stdout, where MARK
 * holds a random nonce: text inside an output cannot end its section early without knowing it.
 * A background reader of the channel kills the whole process group when our end closes it (cancel).
 */
function frame(body: string[]): string {
  const script = [
    'IFS= read -r M && IFS= read -r S && IFS= read -r F && IFS= read -r T && IFS= read -r L || exit 125',
    'exec 3<&0 </dev/null',
    '{ read -r _ <&3; kill -TERM 0; } &',
    'w=$!',
    'PATH=$PATH:/usr/sbin:/sbin:/usr/local/sbin',
    'P=', '[ "$S" = 1 ] && P="sudo -n"',
    // sec ID TOOL CMD…: skipped (status 127) when TOOL is missing; stderr goes to ssh's stderr, marked.
    'sec() { n=$1; t=$2; shift 2; echo "$M B $n"; echo "$M B $n" >&2; if command -v "$t" >/dev/null 2>&1; then "$@"; r=$?; else r=127; fi; echo; echo "$M E $n $r"; }',
    ...body,
    'kill $w 2>/dev/null',
    'exit 0',
  ].join('; ').replace(/\{;/g, '{').replace(/&;/g, '&');
  if (/['\\\n]/.test(script)) throw new Error('probe script must stay free of quotes, backslashes and newlines');
  return script;
}

/** Wraps a script for the far end's login shell (any shell reads `exec sh -c '…'` alike), or for a local sh. */
export function remoteCommandFor(script: string): string {
  return `exec sh -c '${script}'`;
}

/** Where IKE daemons log when there is no journal (read from the offsets taken before the test). */
export const LOG_FILES = ['/var/log/charon.log', '/var/log/syslog', '/var/log/auth.log', '/var/log/messages', '/var/log/secure'];

const BEFORE: Array<Omit<EvidenceCommand, 'id'>> = [
  { file: 'ssh-connection.txt', command: 'echo $SSH_CONNECTION', tool: 'echo', privileged: false, echo: false },
  { file: 'ip-link.txt', command: 'ip -o link', tool: 'ip', privileged: false, echo: false },
  { file: 'wg-dump.txt', command: 'wg show all dump', tool: 'wg', privileged: true, echo: true },
  { file: 'wg-transfer.txt', command: 'wg show all transfer', tool: 'wg', privileged: true, echo: true },
  { file: 'ip-addr.txt', command: 'ip -o addr', tool: 'ip', privileged: false, echo: true },
  { file: 'ip-route.txt', command: 'ip -o route show table all', tool: 'ip', privileged: false, echo: false },
  { file: 'ip6-route.txt', command: 'ip -6 -o route show table all', tool: 'ip', privileged: false, echo: false },
  { file: 'ip-rule.txt', command: 'ip rule', tool: 'ip', privileged: false, echo: true },
  { file: 'ip6-rule.txt', command: 'ip -6 rule', tool: 'ip', privileged: false, echo: true },
  { file: 'nft.json', command: 'nft -j list ruleset', tool: 'nft', privileged: true, echo: false },
  { file: 'iptables.txt', command: 'iptables-save -c', tool: 'iptables-save', privileged: true, echo: true },
  { file: 'ip6tables.txt', command: 'ip6tables-save -c', tool: 'ip6tables-save', privileged: true, echo: true },
  { file: 'iptables-legacy.txt', command: 'iptables-legacy-save -c', tool: 'iptables-legacy-save', privileged: true, echo: true },
  { file: 'sysctl.txt', command: 'sysctl net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter net.ipv6.conf.all.forwarding', tool: 'sysctl', privileged: false, echo: true },
  { file: 'swanctl-conns.txt', command: 'swanctl --list-conns', tool: 'swanctl', privileged: true, echo: true },
  { file: 'swanctl-sas.txt', command: 'swanctl --list-sas', tool: 'swanctl', privileged: true, echo: true },
  { file: 'ipsec-status.txt', command: 'ipsec statusall', tool: 'ipsec', privileged: true, echo: true },
  { file: 'xfrm-state.txt', command: 'ip xfrm state', tool: 'ip', privileged: true, echo: true },
  { file: 'xfrm-policy.txt', command: 'ip xfrm policy', tool: 'ip', privileged: true, echo: true },
  { file: 'ip-s-link.txt', command: 'ip -s link', tool: 'ip', privileged: false, echo: true },
  // Internal: where the classic log files end now, so evidence-after reads only what the test added.
  { file: 'log-sizes.txt', command: `ls -lnL ${LOG_FILES.join(' ')}`, tool: 'ls', privileged: false, echo: false },
];

const AFTER: Array<Omit<EvidenceCommand, 'id'>> = [
  { file: 'nft.after.json', command: 'nft -j list ruleset', tool: 'nft', privileged: true, echo: false },
  { file: 'iptables.after.txt', command: 'iptables-save -c', tool: 'iptables-save', privileged: true, echo: true },
  { file: 'ip6tables.after.txt', command: 'ip6tables-save -c', tool: 'ip6tables-save', privileged: true, echo: true },
  { file: 'iptables-legacy.after.txt', command: 'iptables-legacy-save -c', tool: 'iptables-legacy-save', privileged: true, echo: true },
  { file: 'ip-s-link.after.txt', command: 'ip -s link', tool: 'ip', privileged: false, echo: true },
  { file: 'wg-transfer.after.txt', command: 'wg show all transfer', tool: 'wg', privileged: true, echo: true },
  { file: 'ike-log.after.txt', command: 'journalctl -q --no-pager -o short-iso --since @$T -t charon -t charon-systemd -t pluto -t ipsec', tool: 'journalctl', privileged: true, echo: true },
  { file: 'ike-log-files.after.txt', command: 'tail -c +OFFSET /var/log/charon.log; tail -c +OFFSET /var/log/syslog /var/log/auth.log /var/log/messages /var/log/secure | grep -e charon -e pluto -e ipsec', tool: 'tail', privileged: true, echo: true },
];

function numbered(list: Array<Omit<EvidenceCommand, 'id'>>, from: number): EvidenceCommand[] {
  return list.map((c, i) => ({ ...c, id: from + i }));
}

export const EVIDENCE_BEFORE: readonly EvidenceCommand[] = numbered(BEFORE, 1);
export const EVIDENCE_AFTER: readonly EvidenceCommand[] = numbered(AFTER, 101);

const byFile = (list: readonly EvidenceCommand[], f: string) => list.find((c) => c.file === f)!;

/** The line that runs one command in its section, with sudo where it needs root. */
function secLine(c: EvidenceCommand): string {
  const sudo = c.privileged ? '$P ' : '';
  return `sec ${c.id} ${c.tool} ${sudo}${c.command}`;
}

/**
 * The evidence-before script: every command in EVIDENCE_BEFORE; nft and iptables-save both (one of them
 * is kept per host), ip6tables-save for an IPv6 target; `ipsec statusall` only
 * when swanctl is missing.
 */
export function evidenceBeforeScript(): string {
  const L = EVIDENCE_BEFORE;
  const f = (name: string) => byFile(L, name);
  const body: string[] = [];
  for (const c of L) {
    if (c.file === 'iptables.txt' || c.file === 'ip6tables.txt' || c.file === 'iptables-legacy.txt' || c.file === 'ipsec-status.txt') continue;
    if (c.file === 'nft.json') {
      // Both readings: iptables-nft rules show in nft only as opaque "xt" matches, and iptables-legacy's not at all;
      // the engine keeps the one that holds the rules (see firewallReading in index.ts).
      // A host with both iptables backends: iptables-save shows the nft one, the legacy tables only iptables-legacy-save.
      body.push(secLine(c), `if [ "$F" = 6 ]; then ${secLine(f('ip6tables.txt'))}; else ${secLine(f('iptables.txt'))}; fi`,
        `if command -v iptables-legacy-save >/dev/null 2>&1; then ${secLine(f('iptables-legacy.txt'))}; fi`);
      continue;
    }
    if (c.file === 'swanctl-sas.txt') {
      body.push(secLine(c), `if [ "$r" = 127 ]; then ${secLine(f('ipsec-status.txt'))}; fi`);
      continue;
    }
    body.push(secLine(c));
  }
  return frame(body);
}

/** The evidence-after script: counters again, and the IKE daemons' log lines since the test began. */
export function evidenceAfterScript(): string {
  const L = EVIDENCE_AFTER;
  const f = (name: string) => byFile(L, name);
  return frame([
    secLine(f('nft.after.json')),
    `if [ "$F" = 6 ]; then ${secLine(f('ip6tables.after.txt'))}; else ${secLine(f('iptables.after.txt'))}; fi`,
    `if command -v iptables-legacy-save >/dev/null 2>&1; then ${secLine(f('iptables-legacy.after.txt'))}; fi`,
    secLine(f('ip-s-link.after.txt')),
    secLine(f('wg-transfer.after.txt')),
    // journalctl answers 0 with no journal at all: a first byte of output says whether it has the lines.
    'j=0; if command -v journalctl >/dev/null 2>&1; then j=$($P journalctl -q --no-pager --since @$T -t charon -t charon-systemd -t pluto -t ipsec 2>/dev/null | head -c 1 | wc -c); fi',
    // No journal lines: the classic log files, each from where it ended before the test (-1: unknown, skipped).
    'set -- $L; o1=$1; o2=$2; o3=$3; o4=$4; o5=$5',
    'lg() { [ "$1" -ge 0 ] 2>/dev/null && [ -e "$2" ] && $P tail -c +$(($1 + 1)) "$2" 2>/dev/null; }',
    // charon's own file log holds nothing else (and its lines need not name the daemon); the shared system logs are filtered.
    `logs() { lg "$o1" ${LOG_FILES[0]}; { ${LOG_FILES.slice(1).map((file, i) => `lg "$o${i + 2}" ${file}`).join('; ')}; } | grep -e charon -e pluto -e ipsec; }`,
    `if [ "$j" -gt 0 ] 2>/dev/null; then ${secLine(f('ike-log.after.txt'))}; else sec ${f('ike-log-files.after.txt').id} tail logs; fi`,
  ]);
}

/** `ls -lnL` of LOG_FILES → each file's size in bytes (0 when it did not exist, -1 when unknown). */
export function logOffsets(lsOutput: string | undefined): number[] {
  return LOG_FILES.map((file) => {
    if (lsOutput === undefined) return -1;
    for (const line of lsOutput.split('\n')) {
      const w = line.trim().split(/\s+/);
      if (w[w.length - 1] === file && w.length >= 6 && /^\d{1,15}$/.test(w[4]!)) return Number(w[4]);
    }
    return 0;
  });
}

/** stdin for an evidence script: marker, sudo flag, address family of the target, test start (epoch s). */
export function evidenceInput(marker: string, sudo: boolean, family: 4 | 6, sinceEpoch: number, offsets: number[] = LOG_FILES.map(() => -1)): string {
  if (!/^[A-Za-z0-9]{8,64}$/.test(marker)) throw new Error('marker must be alphanumeric');
  const o = LOG_FILES.map((_, i) => { const n = offsets[i]; return n !== undefined && Number.isInteger(n) && n >= 0 ? String(n) : '-1'; });
  return [marker, sudo ? '1' : '0', String(family), String(Math.max(0, Math.floor(sinceEpoch))), o.join(' ')].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Splitting the framed output back into sections.

export interface Section {
  id: number;
  /** Exit status of the command; 127 = the tool is missing; null when the section never ended (cut off). */
  status: number | null;
  text: Buffer;
  /** Bytes dropped past MAX_SECTION_BYTES. */
  dropped: number;
}

/**
 * Streaming splitter for the framed stdout: feed chunks as they arrive. Only a line that is exactly
 * `MARK B id` starts a section and only `\nMARK E id status` (the id of the open section) ends it,
 * so a forged marker inside an output (without the nonce, or with another id) stays part of the text.
 * Memory is bounded by the per-section cap.
 */
export class SectionSplitter {
  readonly sections: Section[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private open: Section | null = null;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly marker: string, private readonly cap = MAX_SECTION_BYTES) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.open) {
        // Outside a section: look for a begin line; anything else is dropped (only the shell writes here).
        const nl = this.buf.indexOf(10);
        if (nl < 0) { if (this.buf.length > 4096) this.buf = Buffer.alloc(0); return; }
        const line = this.buf.subarray(0, nl).toString('latin1');
        this.buf = this.buf.subarray(nl + 1);
        const m = new RegExp(`^${this.marker} B (\\d{1,4})$`).exec(line);
        if (m) { this.open = { id: Number(m[1]), status: null, text: Buffer.alloc(0), dropped: 0 }; this.parts = []; this.size = 0; }
        continue;
      }
      const needle = Buffer.from(`\n${this.marker} E ${this.open.id} `, 'latin1');
      const at = this.buf.indexOf(needle);
      if (at >= 0) {
        const nl = this.buf.indexOf(10, at + needle.length);
        if (nl < 0) { this.keep(this.buf.subarray(0, at)); this.buf = this.buf.subarray(at); return; }
        const status = this.buf.subarray(at + needle.length, nl).toString('latin1');
        this.keep(this.buf.subarray(0, at));
        this.buf = this.buf.subarray(nl + 1);
        this.close(/^\d{1,3}$/.test(status) ? Number(status) : null);
        continue;
      }
      // Keep what cannot be the start of the end marker; hold back a needle's length for the next chunk.
      const safe = Math.max(0, this.buf.length - needle.length);
      this.keep(this.buf.subarray(0, safe));
      this.buf = this.buf.subarray(safe);
      return;
    }
  }

  /** Call when the stream ended: a section still open is kept as cut off (status null). */
  end(): Section[] {
    if (this.open) { this.keep(this.buf); this.buf = Buffer.alloc(0); this.close(null); }
    return this.sections;
  }

  private keep(b: Buffer): void {
    if (!this.open || b.length === 0) return;
    const room = this.cap - this.size;
    if (room <= 0) { this.open.dropped += b.length; return; }
    const take = b.length > room ? b.subarray(0, room) : b;
    // Copies: the source buffers are reused.
    this.parts.push(Buffer.from(take));
    this.size += take.length;
    this.open.dropped += b.length - take.length;
  }

  private close(status: number | null): void {
    const s = this.open!;
    s.text = Buffer.concat(this.parts);
    s.status = status;
    this.sections.push(s);
    this.open = null;
    this.parts = [];
    this.size = 0;
  }
}

/** Far-end stderr, split the same way (`MARK B id` lines start each command's messages). */
export function stderrBySection(stderr: string, marker: string): Map<number, string> {
  const out = new Map<number, string>();
  let id = 0;
  for (const line of stderr.split('\n')) {
    const m = new RegExp(`^${marker} B (\\d{1,4})$`).exec(line);
    if (m) { id = Number(m[1]); continue; }
    if (line.trim() === '') continue;
    out.set(id, (out.get(id) ?? '') + line + '\n');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Secrets.

/**
 * `wg show all dump` with its secrets removed before anything is written: the interface line's private
 * key becomes "(none)" (the form the reader accepts for a missing key) and a peer's preshared key
 * "(hidden)" (still saying that one is set). Works for `wg show IFACE dump` (no name column) too.
 */
export function blankWgDump(text: string): string {
  const KEY = /^[A-Za-z0-9+/]{43}=$/;
  return text.split('\n').map((line) => {
    const cr = line.endsWith('\r') ? '\r' : '';
    const f = (cr ? line.slice(0, -1) : line).split('\t');
    // Interface line: [name,] private, public, port, fwmark.
    if (f.length === 5 && KEY.test(f[2]!)) f[1] = '(none)';
    else if (f.length === 4 && KEY.test(f[1]!)) f[0] = '(none)';
    // Peer line: [name,] public, preshared, endpoint, allowed ips, handshake, rx, tx, keepalive.
    else if (f.length === 9 && KEY.test(f[1]!)) { if (f[2] !== '(none)') f[2] = '(hidden)'; }
    else if (f.length === 8 && KEY.test(f[0]!)) { if (f[1] !== '(none)') f[1] = '(hidden)'; }
    // A line of another shape could still carry a key we cannot tell from a public one: all go.
    else if (f.length > 1) return f.map((x) => (KEY.test(x) ? '(hidden)' : x)).join('\t') + cr;
    return f.join('\t') + cr;
  }).join('\n');
}

/**
 * `ip xfrm state` prints each SA's keys after the algorithm name (`enc cbc(aes) 0x…`,
 * `auth-trunc hmac(sha256) 0x… 128`, `aead rfc4106(gcm(aes)) 0x… 128`): keep the name and the ICV
 * length, replace the key.
 */
export function blankXfrmKeys(text: string): string {
  return text.split('\n').map((line) => {
    const m = /^(\s*)(aead|enc|auth|auth-trunc|comp|crypt)\s+(\S+)(?:\s+(\S+))?(?:\s+(\d+))?\s*$/.exec(line);
    if (!m) return line;
    if (m[2] === 'comp' && m[4] === undefined) return line;
    return `${m[1]}${m[2]} ${m[3]} (hidden)${m[5] !== undefined ? ` ${m[5]}` : ''}`;
  }).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Inputs.

export interface SshTarget { user?: string; host: string; port?: number }

/** `USER@HOST[:PORT]` (IPv6 literals in brackets) through the app's own validators; one line on error. */
export function parseDestination(s: string, what = 'destination'): SshTarget {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) throw new ProbeInputError(`${what} must be USER@HOST[:PORT] (got "${visible(s)}")`);
  const host = m[2]!.replace(/^\[|\]$/g, '');
  try {
    validateSshHost(host, `${what} host`);
    if (m[1] !== undefined) validateSshUser(m[1], `${what} user`);
  } catch (e) { throw new ProbeInputError(visible((e as Error).message)); }
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new ProbeInputError(`${what} port must be 1–65535 (got ${port})`);
  return { ...(m[1] !== undefined && { user: m[1] }), host, ...(port !== undefined && { port }) };
}

/** The target as a canonical IP address, or a ProbeInputError naming what is wrong. */
export function checkTarget(t: string): { addr: string; family: 4 | 6 } {
  const s = t.trim();
  const fam = isIP(s);
  if (fam === 4) return { addr: s, family: 4 };
  // A zone index (fe80::1%eth0) would need an interface we cannot quote in a filter: refused.
  if (fam === 6 && !s.includes('%')) return { addr: s.toLowerCase(), family: 6 };
  throw new ProbeInputError(`the target must be an IPv4 or IPv6 address (got "${visible(t)}")`);
}

/** Every option checked before anything runs; returns the normalised target. */
export function checkOptions(o: ProbeOptions): { addr: string; family: 4 | 6 } {
  const target = checkTarget(o.target);
  if (!['tcp', 'http', 'ping', 'udp'].includes(o.test)) throw new ProbeInputError(`the test must be tcp, http, ping or udp (got "${visible(String(o.test))}")`);
  if (o.test !== 'ping' && (!Number.isInteger(o.port) || o.port! < 1 || o.port! > 65535)) throw new ProbeInputError(`the ${o.test} test needs a port from 1 to 65535`);
  for (const [name, e] of [['A', o.a], ['B', o.b]] as const) checkEnd(e, name);
  if (o.b.kind === 'local' && o.a.kind === 'local') throw new ProbeInputError('A and B cannot both be this host');
  if (o.snaplen !== undefined && (!Number.isInteger(o.snaplen) || o.snaplen < 64 || o.snaplen > 262144)) throw new ProbeInputError('snaplen must be an integer from 64 to 262144');
  if (o.settleMs !== undefined && (!Number.isFinite(o.settleMs) || o.settleMs < 0 || o.settleMs > 600_000)) throw new ProbeInputError('settle must be 0–600 s');
  if (o.testTimeoutSec !== undefined && (!Number.isInteger(o.testTimeoutSec) || o.testTimeoutSec < 1 || o.testTimeoutSec > 300)) throw new ProbeInputError('the test timeout must be 1–300 s');
  if (o.connectTimeoutSec !== undefined && (!Number.isInteger(o.connectTimeoutSec) || o.connectTimeoutSec < 1 || o.connectTimeoutSec > 120)) throw new ProbeInputError('the connect timeout must be 1–120 s');
  if (typeof o.outDir !== 'string' || o.outDir === '') throw new ProbeInputError('an output folder is needed');
  return target;
}

function checkEnd(e: ProbeEnd, name: 'A' | 'B'): void {
  if (e.kind !== 'local' && e.kind !== 'ssh') throw new ProbeInputError(`${name} must be local or ssh`);
  if (e.iface !== undefined && e.iface !== 'any' && !isInterfaceName(e.iface)) throw new ProbeInputError(`${name}'s interface "${visible(e.iface)}" is not an interface name`);
  if (e.kind === 'ssh') {
    if (e.destination === undefined) throw new ProbeInputError(`${name} needs USER@HOST`);
    parseDestination(e.destination, name);
  }
  for (const [what, p] of [['key file', e.identityFile], ['known-hosts file', e.knownHostsFile]] as const) {
    if (p === undefined) continue;
    // eslint-disable-next-line no-control-regex
    if (p === '' || p.startsWith('-') || /[\u0000-\u001f\u007f]/.test(p)) throw new ProbeInputError(`${name}'s ${what} "${visible(p)}" is not a usable path`);
  }
}

// ---------------------------------------------------------------------------------------------
// The capture filter.

export interface FilterInput {
  target: string;
  test: ProbeTestKind;
  port?: number;
  /** WireGuard ports from both hosts' dumps (ListenPort, peer Endpoint ports). */
  wgPorts: number[];
  /** Our own SSH sessions to each far end (client address, server address, server port), left out of every capture. */
  sshSessions: Array<{ client: string; server: string; port: number }>;
}

/**
 * The capture filter: the target (inner packets on the tunnel and LAN sides), the test port (in case
 * B translates the address), the tunnel carriers (WireGuard ports, IKE 500/4500, ESP and AH), and ICMP
 * errors (not echo, unless the test is ping, which `host` covers) — minus our own SSH sessions, which
 * would otherwise feed a far end's capture with its own stream.
 */
export function buildFilter(f: FilterInput): string {
  const { addr } = checkTarget(f.target);
  const inc = [`host ${addr}`];
  if (f.port !== undefined && f.test !== 'ping') inc.push(`${f.test === 'udp' ? 'udp' : 'tcp'} port ${f.port}`);
  const ports = [...new Set(f.wgPorts.filter((p) => Number.isInteger(p) && p > 0 && p < 65536))].sort((a, b) => a - b);
  if (ports.length === 0) ports.push(51820);
  for (const p of ports) inc.push(`udp port ${p}`);
  inc.push('udp port 500', 'udp port 4500', 'ip proto 50', 'ip proto 51', 'ip6 proto 50', 'ip6 proto 51');
  inc.push('(icmp and icmp[0] != 8 and icmp[0] != 0)', '(icmp6 and ip6[40] < 128)');
  let out = `(${inc.join(' or ')})`;
  const seen = new Set<string>();
  for (const s of f.sshSessions) {
    if (!isIP(s.client) || !isIP(s.server) || /%/.test(s.client + s.server) || !Number.isInteger(s.port) || s.port < 1 || s.port > 65535) continue;
    const x = `not (tcp and host ${s.client} and host ${s.server} and port ${s.port})`;
    if (!seen.has(x)) { seen.add(x); out += ` and ${x}`; }
  }
  return out;
}

/** `$SSH_CONNECTION` ("client cport server sport") → the parts the filter needs, or null. */
export function parseSshConnection(text: string): { client: string; server: string; port: number } | null {
  const w = text.trim().split(/\s+/);
  if (w.length !== 4) return null;
  const [client, , server, port] = w as [string, string, string, string];
  const p = Number(port);
  // Link-local forms carry a zone ("fe80::1%eth0"): not usable in a filter.
  if (!isIP(client) || !isIP(server) || /%/.test(client + server) || !/^\d{1,5}$/.test(port) || p < 1 || p > 65535) return null;
  return { client, server, port: p };
}

// ---------------------------------------------------------------------------------------------
// The test connection.

/**
 * The test script, run on A: the first tool that exists in a form that does the job (Debian, Alpine's
 * busybox, macOS). It prints `MARK F form` naming the command it chose, then the command's status as
 * `MARK X status`. Values (marker, target, port, timeout, family) arrive on stdin and have been
 * validated: an IP address and numbers only.
 */
export function testScript(kind: ProbeTestKind): string {
  const say = (form: string) => `echo "$M F ${form}"`;
  const host = '$h';
  let body: string[];
  switch (kind) {
    case 'tcp':
      body = [
        `if command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e -z; then ${say('nc -z -w $w $t $p')}; nc -z -w "$w" "$t" "$p"`,
        // GNU timeout moves itself to a process group of its own, out of reach of a cancel: --foreground keeps it in ours.
        `elif command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then ${say('bash -c exec 3<>/dev/tcp/$t/$p')}; o=; timeout --foreground 1 true 2>/dev/null && o=--foreground; timeout $o "$w" bash -c "exec 3<>/dev/tcp/$t/$p"`,
        `elif command -v busybox >/dev/null 2>&1 && busybox nc 2>&1 | grep -q -e -e; then ${say('busybox nc -w $w $t $p -e true')}; busybox nc -w "$w" "$t" "$p" -e true`,
        // curl's telnet stays connected until -m runs out (status 28, as for a connect timeout): the
        // connect time it reports tells the two apart.
        `elif command -v curl >/dev/null 2>&1; then ${say('curl telnet://' + host + ':$p')}; c=$(curl -s -g -o /dev/null --connect-timeout "$w" -m "$w" -w %{time_connect} "telnet://${host}:$p" </dev/null); case $c in 0.000000|"") false;; *) true;; esac`,
        'else echo no tool for a TCP connect: nc, bash, curl or busybox >&2; false; fi',
      ];
      break;
    case 'http':
      body = [
        `if command -v curl >/dev/null 2>&1; then ${say('curl -sS -g -m $w -o /dev/null -w %{http_code} http://' + host + ':$p/')}; curl -sS -g -m "$w" -o /dev/null -w %{http_code} "http://${host}:$p/"`,
        `elif command -v wget >/dev/null 2>&1; then ${say('wget -q -T $w -O /dev/null http://' + host + ':$p/')}; wget -q -T "$w" -O /dev/null "http://${host}:$p/"`,
        // busybox 1.35's wget crashes with -T: its own timeout applet bounds it instead.
        `elif command -v busybox >/dev/null 2>&1; then ${say('busybox wget -q -O /dev/null http://' + host + ':$p/')}; busybox timeout "$w" busybox wget -q -O /dev/null "http://${host}:$p/"`,
        'else echo no tool for an HTTP GET: curl, wget or busybox >&2; false; fi',
      ];
      break;
    case 'ping':
      body = [
        'if [ "$F" = 6 ]; then o=-6; else o=-4; fi',
        `if command -v ping >/dev/null 2>&1; then ${say('ping $o -c 3 -W 2 $t')}; ping $o -c 3 -W 2 "$t"`,
        `elif command -v busybox >/dev/null 2>&1; then ${say('busybox ping $o -c 3 -W 2 $t')}; busybox ping $o -c 3 -W 2 "$t"`,
        'else echo no ping command >&2; false; fi',
      ];
      break;
    case 'udp':
      body = [
        `if command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e -u; then ${say('echo tandem-probe | nc -u -w 1 $t $p')}; echo tandem-probe | nc -u -w 1 "$t" "$p"`,
        `elif command -v bash >/dev/null 2>&1; then ${say('bash -c echo tandem-probe >/dev/udp/$t/$p')}; bash -c "echo tandem-probe >/dev/udp/$t/$p"`,
        'else echo no tool for a UDP datagram: nc or bash >&2; false; fi',
      ];
      break;
  }
  const script = [
    'IFS= read -r M && IFS= read -r t && IFS= read -r p && IFS= read -r w && IFS= read -r F || exit 125',
    'exec 3<&0 </dev/null',
    '{ read -r _ <&3; kill -TERM 0; } &',
    'k=$!',
    // Brackets for an IPv6 literal in a URL.
    'h=$t; case $t in *:*) h=[$t];; esac',
    'PATH=$PATH:/usr/sbin:/sbin:/usr/local/sbin',
    ...body,
    'r=$?',
    'echo',
    'echo "$M X $r"',
    'kill $k 2>/dev/null',
    'exit 0',
  ].join('; ').replace(/&;/g, '&').replace(/then;/g, 'then').replace(/else;/g, 'else');
  if (/['\\\n]/.test(script)) throw new Error('probe script must stay free of quotes, backslashes and newlines');
  return script;
}

export function testInput(marker: string, target: string, port: number | undefined, timeoutSec: number, family: 4 | 6): string {
  const { addr } = checkTarget(target);
  if (!/^[A-Za-z0-9]{8,64}$/.test(marker)) throw new Error('marker must be alphanumeric');
  return [marker, addr, String(port ?? 0), String(Math.floor(timeoutSec)), String(family)].join('\n') + '\n';
}

/** The test command's outcome from its framed output: the form chosen, its status, and its other output. */
export function parseTestOutput(stdout: string, marker: string): { form: string; status: number | null; output: string } {
  let form = '', status: number | null = null;
  const rest: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${marker} F `)) { form = line.slice(marker.length + 3); continue; }
    const x = new RegExp(`^${marker} X (\\d{1,3})$`).exec(line);
    if (x) { status = Number(x[1]); continue; }
    rest.push(line);
  }
  return { form, status, output: rest.join('\n').trim() };
}

/** The `--flow` selector the analysis gets for the test. */
export function flowFor(test: ProbeTestKind, target: string, port?: number): string {
  const { addr, family } = checkTarget(target);
  if (test === 'ping') return `icmp ${addr}`;
  const a = family === 6 ? `[${addr}]` : addr;
  return `${test === 'udp' ? 'udp' : 'tcp'} ${a}:${port}`;
}
