// The WireGuard probe lab: A (client, runs the probe), B (gateway, sshd on its underlay address) and
// S (a web server on B's LAN), the topology of test/fixtures/evidence/make-wg-fixtures.sh:
//
//   A eth0 203.0.113.1 ──── B eth0 203.0.113.2 (sshd :2222, wg0 10.0.0.2 :51822)
//     wg0 10.0.0.1 :51821     eth1 192.168.200.2 ──── S eth0 192.168.200.22 (busybox httpd :80)
//
// B forwards with a policy drop forward chain (a jump to from_tunnel for wg0 → eth1), masquerades
// out eth1, runs strict rp_filter and routes tunnel traffic through policy table 100. One network
// serves every scenario: `set(fault)` puts the baseline back, then breaks one thing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, sleep, which, type Host } from './hosts.ts';

export const WG_FAULTS = [
  'healthy', 'fw-drop', 'fw-drop6', 'fw-drop-forward', 'fw-drop-reply', 'nft-reject', 'ipt-drop', 'ipt-reject', 'allowedips', 'allowedips-a', 'no-forward', 'wrong-port', 'policy-route',
] as const;
export type WgFault = (typeof WG_FAULTS)[number];

export const TARGET = '192.168.200.22';
export const TARGET6 = 'fd00:200::22';
export const B_ADDR = '203.0.113.2';
export const SSH_PORT = 2222;
export const A_SSH_PORT = 2223;

export class WgLab {
  readonly lab = new Lab('wg');
  readonly a: Host; readonly b: Host; readonly s: Host;
  /** Public keys, base64. */
  pubA = ''; pubB = '';

  constructor() {
    const lab = this.lab;
    this.a = lab.host('a'); this.b = lab.host('b'); this.s = lab.host('s');
  }

  async build(): Promise<void> {
    const { lab, a, b, s } = this;
    lab.veth(a, 'eth0', b, 'eth0');
    lab.veth(b, 'eth1', s, 'eth0');
    a.run(['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0']);
    b.run(['ip', 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0']);
    b.run(['ip', 'addr', 'add', '192.168.200.2/24', 'dev', 'eth1']);
    s.run(['ip', 'addr', 'add', '192.168.200.22/24', 'dev', 'eth0']);
    s.run(['ip', 'route', 'add', 'default', 'via', '192.168.200.2']);
    b.run(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv6.conf.all.forwarding=1']);
    // IPv6 beside IPv4 (no NAT: the server routes fd10::/64 back through B).
    a.run(['ip', '-6', 'addr', 'add', 'fd00:1::1/64', 'dev', 'eth0', 'nodad']);
    b.run(['ip', '-6', 'addr', 'add', 'fd00:1::2/64', 'dev', 'eth0', 'nodad']);
    b.run(['ip', '-6', 'addr', 'add', 'fd00:200::2/64', 'dev', 'eth1', 'nodad']);
    s.run(['ip', '-6', 'addr', 'add', `${TARGET6}/64`, 'dev', 'eth0', 'nodad']);
    s.run(['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:200::2']);

    for (const [h, n] of [[a, 'a'], [b, 'b']] as const) {
      const key = a.run(['wg', 'genkey']).trim();
      writeFileSync(join(lab.dir, `${n}.key`), key + '\n', { mode: 0o600 });
      const pub = a.run(['wg', 'pubkey'], key).trim();
      if (n === 'a') this.pubA = pub; else this.pubB = pub;
      // Each host's /run/wireguard is its own, so the device can be wg0 from the start.
      h.spawn(['wireguard-go', '-f', 'wg0'], { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' }, join(lab.dir, `wireguard-go-${n}.log`));
    }
    for (const h of [a, b]) {
      for (let i = 0; i < 100 && h.try(['test', '-S', '/run/wireguard/wg0.sock']).status !== 0; i++) await sleep(50);
    }
    a.run(['wg', 'set', 'wg0', 'private-key', join(lab.dir, 'a.key'), 'listen-port', '51821']);
    b.run(['wg', 'set', 'wg0', 'private-key', join(lab.dir, 'b.key'), 'listen-port', '51822']);
    a.run(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'wg0']);
    b.run(['ip', 'addr', 'add', '10.0.0.2/24', 'dev', 'wg0']);
    a.run(['ip', '-6', 'addr', 'add', 'fd10::1/64', 'dev', 'wg0', 'nodad']);
    b.run(['ip', '-6', 'addr', 'add', 'fd10::2/64', 'dev', 'wg0', 'nodad']);
    a.run(['ip', 'link', 'set', 'wg0', 'up']);
    b.run(['ip', 'link', 'set', 'wg0', 'up']);
    a.run(['ip', 'route', 'add', '192.168.200.0/24', 'dev', 'wg0', 'metric', '50']);
    a.run(['ip', 'route', 'add', '192.168.200.0/24', 'via', B_ADDR, 'dev', 'eth0', 'metric', '200']);
    a.run(['ip', '-6', 'route', 'add', 'fd00:200::/64', 'dev', 'wg0']);
    // Policy routing on B: tunnel traffic is looked up in table 100 first.
    b.run(['ip', 'rule', 'add', 'from', '10.0.0.0/24', 'lookup', '100', 'pref', '1000']);
    b.run(['ip', 'route', 'add', 'default', 'via', '203.0.113.1', 'dev', 'eth0', 'table', '100']);
    b.run(['ip', 'route', 'add', '10.0.0.0/24', 'dev', 'wg0', 'table', '100']);

    const www = join(lab.dir, 'www');
    s.run(['mkdir', '-p', www]);
    writeFileSync(join(www, 'index.html'), '<html><body>probe lab</body></html>\n');
    s.spawn(['busybox', 'httpd', '-f', '-p', `${TARGET}:80`, '-h', www]);
    s.spawn(['busybox', 'httpd', '-f', '-p', `[${TARGET6}]:80`, '-h', www]);
    for (let i = 0; i < 100; i++) {
      const ss = s.run(['ss', '-Hltn']);
      if (ss.includes(`${TARGET}:80`) && ss.includes(`[${TARGET6}]:80`)) break;
      await sleep(50);
    }

    await b.startSshd(B_ADDR, SSH_PORT);
    await a.startSshd('127.0.0.1', A_SSH_PORT);
  }

  /** The baseline, then one fault. */
  set(fault: WgFault): void {
    const { a, b } = this;
    const iptables = fault === 'ipt-drop' || fault === 'ipt-reject';
    b.run(['nft', 'flush', 'ruleset']);
    // Legacy tables are not nft's: emptied on their own (where the host has legacy iptables at all;
    // the cases that need it skip without it).
    if (which('iptables-legacy')) {
      for (const t of ['filter', 'nat']) for (const op of ['-F', '-X']) b.run(['iptables-legacy', '-t', t, op]);
      b.run(['iptables-legacy', '-P', 'FORWARD', 'ACCEPT']);
    }
    // ipt-drop: iptables with the nft backend (Debian's default); ipt-reject: a legacy-iptables host.
    if (iptables) this.iptables(fault === 'ipt-drop' ? 'DROP' : 'REJECT', fault === 'ipt-drop' ? 'iptables' : 'iptables-legacy');
    else b.run(['nft', '-f', '-'], this.nftRuleset(fault));
    b.run(['sysctl', '-qw', `net.ipv4.ip_forward=${fault === 'no-forward' ? 0 : 1}`]);
    if (fault === 'policy-route') b.try(['ip', 'route', 'del', '192.168.200.0/24', 'dev', 'eth1', 'table', '100']);
    else b.run(['ip', 'route', 'replace', '192.168.200.0/24', 'dev', 'eth1', 'table', '100']);
    // Peers removed and added again: no session survives from the previous scenario, and without a
    // keepalive nothing is sent before the test, so each probe captures its own first handshake
    // (a wrong endpoint's unanswered one too), and B has learnt no endpoint yet.
    b.run(['wg', 'set', 'wg0', 'peer', this.pubA, 'remove']);
    a.run(['wg', 'set', 'wg0', 'peer', this.pubB, 'remove']);
    b.run(['wg', 'set', 'wg0', 'peer', this.pubA, 'allowed-ips', fault === 'allowedips' ? '10.0.0.99/32' : '10.0.0.1/32,fd10::1/128']);
    a.run(['wg', 'set', 'wg0', 'peer', this.pubB, 'endpoint', `${B_ADDR}:${fault === 'wrong-port' ? 51823 : 51822}`,
      // allowedips-a: A's peer for B leaves B's LAN out, though A routes it into wg0.
      'allowed-ips', fault === 'allowedips-a' ? '10.0.0.0/24,fd10::/64,fd00:200::/64' : '10.0.0.0/24,192.168.200.0/24,fd10::/64,fd00:200::/64']);
    // No neighbour entry survives either: a stale one is re-probed later (an ARP request from the
    // server that B's capture, filtered on the target's address, would catch or not by chance).
    for (const h of [a, b, this.s]) h.run(['ip', 'neigh', 'flush', 'all']);
  }

  private nftRuleset(fault: WgFault): string {
    const fromTunnel = fault === 'fw-drop' ? 'ip daddr @blocked tcp dport { 80, 443 } counter drop'
      : fault === 'fw-drop6' ? `ip6 daddr ${TARGET6} tcp dport 80 counter drop`
      : fault === 'nft-reject' ? 'ip daddr @blocked tcp dport { 80, 443 } counter reject with icmp type admin-prohibited' : '';
    // The other form: the drop sits in the base chain itself, before the jump.
    const inForward = fault === 'fw-drop-forward' ? `iifname "wg0" ip daddr ${TARGET} tcp dport 80 counter drop` : '';
    // The reply's way: the server's answer dropped before conntrack's accept lets it through.
    const reply = fault === 'fw-drop-reply' ? `iifname "eth1" oifname "wg0" ip saddr ${TARGET} tcp sport 80 counter drop` : '';
    const blocked = fromTunnel !== '' ? TARGET : '192.0.2.99';
    return `table inet filter {
  set blocked { type ipv4_addr; flags interval; elements = { ${blocked}, 198.18.0.0/15 } }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ${reply}
    ct state established,related counter accept
    ${inForward}
    iifname "wg0" oifname "eth1" counter jump from_tunnel
    iifname "eth1" oifname "wg0" counter accept
    counter
  }
  chain from_tunnel {
    ip saddr != 10.0.0.0/24 counter drop
    ip6 saddr != fd10::/64 counter drop
    ${fromTunnel}
    meta l4proto icmp counter accept
    tcp dport 80 counter accept
    counter return
  }
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 51822 counter accept
  }
}
table ip nat {
  chain post { type nat hook postrouting priority srcnat; oifname "eth1" counter masquerade; }
}
`;
  }

  private iptables(target: 'DROP' | 'REJECT', bin: 'iptables' | 'iptables-legacy'): void {
    const b = this.b;
    const rules: string[][] = [
      ['-N', 'FROM_TUNNEL'], ['-P', 'FORWARD', 'DROP'],
      ['-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['-A', 'FORWARD', '-i', 'wg0', '-o', 'eth1', '-j', 'FROM_TUNNEL'],
      ['-A', 'FORWARD', '-i', 'eth1', '-o', 'wg0', '-j', 'ACCEPT'],
      ['-A', 'FROM_TUNNEL', '!', '-s', '10.0.0.0/24', '-j', 'DROP'],
      ['-A', 'FROM_TUNNEL', '-d', `${TARGET}/32`, '-p', 'tcp', '-m', 'multiport', '--dports', '80,443', '-j', target],
      ['-A', 'FROM_TUNNEL', '-p', 'icmp', '-j', 'ACCEPT'],
      ['-A', 'FROM_TUNNEL', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT'],
      ['-A', 'INPUT', '-p', 'udp', '--dport', '51822', '-j', 'ACCEPT'],
    ];
    for (const r of rules) b.run([bin, ...r]);
    b.run([bin, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth1', '-j', 'MASQUERADE']);
  }

  /** The handle nft gave the drop (or reject) rule of this fault, read from B's own ruleset. */
  dropHandle(): { handle: string; chain: string } | null {
    let chain = '';
    for (const line of this.b.run(['nft', '-a', 'list', 'ruleset']).split('\n')) {
      const c = /^\s*chain (\S+) \{/.exec(line);
      if (c) chain = c[1]!;
      const m = /(?:@blocked|ip [sd]addr 192\.168\.200\.22|ip6 daddr fd00:200::22) .*\b(?:drop|reject)\b.* # handle (\d+)$/.exec(line);
      if (m) return { handle: m[1]!, chain };
    }
    return null;
  }

  cleanup(): void { this.lab.cleanup(); }
}

export function readJson<T>(file: string): T { return JSON.parse(readFileSync(file, 'utf8')) as T; }
