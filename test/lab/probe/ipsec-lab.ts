// The IPsec probe lab: two strongSwan gateways (IKEv2, PSK, ESP in userspace through kernel-libipsec's
// TUN device, as in test/lab/ipsec/lab-ipsec.sh) and a server behind B. Gateway A runs the probe;
// gateway B has an sshd on its WAN address. charon writes its log to /var/log/charon.log of its own
// host (a private /var/log), one of the places the probe reads IKE log lines from.
//
//   A lan0 10.1.0.1 (no hosts)           B eth1 10.2.0.1, 10.2.1.1 ──── S eth0 10.2.0.22, 10.2.1.22 (httpd :80)
//     eth0 198.51.100.1 ─────────────── eth0 198.51.100.2 (sshd :2222)
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, sleep, type Host } from './hosts.ts';

export const IPSEC_FAULTS = ['healthy', 'psk-mismatch', 'proposal-mismatch', 'ts-refused', 'selector-missing'] as const;
export type IpsecFault = (typeof IPSEC_FAULTS)[number];

export const CHARON = '/usr/lib/ipsec/charon';
export const B_WAN = '198.51.100.2';
export const SSH_PORT = 2222;

interface Conf { remoteTs: string; localTs: string; psk: string; proposals?: string }

export class IpsecLab {
  readonly lab = new Lab('ipsec');
  readonly a: Host; readonly b: Host; readonly s: Host;
  private readonly psk = `probe-lab-psk-${this.lab.id}`;

  constructor() {
    this.a = this.lab.host('a'); this.b = this.lab.host('b'); this.s = this.lab.host('s');
  }

  async build(): Promise<void> {
    const { lab, a, b, s } = this;
    lab.veth(a, 'eth0', b, 'eth0');
    lab.veth(b, 'eth1', s, 'eth0');
    // A LAN with nobody on it (this kernel has no dummy device): a veth pair inside A.
    a.run(['ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0p']);
    a.run(['ip', 'link', 'set', 'lan0', 'up']);
    a.run(['ip', 'link', 'set', 'lan0p', 'up']);
    a.run(['ip', 'addr', 'add', '10.1.0.1/24', 'dev', 'lan0']);
    a.run(['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'eth0']);
    b.run(['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0']);
    b.run(['ip', 'addr', 'add', '10.2.0.1/24', 'dev', 'eth1']);
    b.run(['ip', 'addr', 'add', '10.2.1.1/24', 'dev', 'eth1']);
    s.run(['ip', 'addr', 'add', '10.2.0.22/24', 'dev', 'eth0']);
    s.run(['ip', 'addr', 'add', '10.2.1.22/24', 'dev', 'eth0']);
    s.run(['ip', 'route', 'add', 'default', 'via', '10.2.0.1']);
    for (const h of [a, b]) h.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // A's way to the rest of the world is another router: what is not tunnelled leaves in clear
    // towards it (a neighbour entry, so the packet really leaves), never to B.
    a.run(['ip', 'route', 'add', 'default', 'via', '198.51.100.254']);
    a.run(['ip', 'neigh', 'replace', '198.51.100.254', 'lladdr', '02:00:00:00:00:fe', 'dev', 'eth0', 'nud', 'permanent']);

    for (const [h, n] of [[a, 'a'], [b, 'b']] as const) {
      const d = join(lab.dir, `etc-${n}`);
      mkdirSync(join(d, 'swanctl', 'conf.d'), { recursive: true });
      writeFileSync(join(d, 'strongswan.conf'), strongswanConf());
      // The host's own /etc/strongswan.conf and /etc/swanctl, in its mount namespace only.
      h.run(['mount', '--bind', join(d, 'strongswan.conf'), '/etc/strongswan.conf']);
      h.run(['mount', '--bind', join(d, 'swanctl'), '/etc/swanctl']);
    }
    this.writeConf('a', { localTs: '10.1.0.0/24', remoteTs: '10.2.0.0/24,10.2.1.0/24', psk: this.psk });
    this.writeConf('b', { localTs: '10.2.0.0/24,10.2.1.0/24', remoteTs: '10.1.0.0/24', psk: this.psk });
    for (const [h, n] of [[a, 'a'], [b, 'b']] as const) {
      h.spawn([CHARON], undefined, join(lab.dir, `charon-${n}.out`));
      for (let i = 0; i < 100; i++) {
        if (h.try(['test', '-S', '/run/charon.vici']).status === 0 && h.try(['ip', 'link', 'show', 'ipsec0']).status === 0) break;
        await sleep(50);
      }
      h.run(['swanctl', '--load-all', '--noprompt']);
    }

    const www = join(lab.dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), '<html><body>probe lab</body></html>\n');
    s.spawn(['busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    for (let i = 0; i < 100 && !s.run(['ss', '-Hltn']).includes(':80'); i++) await sleep(50);
    await b.startSshd(B_WAN, SSH_PORT);
  }

  /**
   * A's child SA is trapped: its routes (table 220, into ipsec0, source 10.1.0.1) exist before any
   * SA, so the test from A takes the tunnel's way even while the exchange fails.
   */
  private writeConf(n: 'a' | 'b', c: Conf): void {
    const [la, ra, lid, rid] = n === 'a' ? ['198.51.100.1', '198.51.100.2', 'gwa.lab', 'gwb.lab'] : ['198.51.100.2', '%any', 'gwb.lab', 'gwa.lab'];
    writeFileSync(join(this.lab.dir, `etc-${n}`, 'swanctl', 'swanctl.conf'), `connections {
  s2s {
    version = 2
    local_addrs = ${la}
    remote_addrs = ${ra}
    proposals = ${c.proposals ?? 'aes128-sha256-modp2048'}
    # kernel-libipsec sends ESP through the IKE socket only, UDP-encapsulated.
    encap = yes
    # No MOBIKE: its address updates (INFORMATIONAL exchanges a moment after the SA comes up) would
    # land in one capture and not the other at random, depending on which started first.
    mobike = no
    local { auth = psk
      id = ${lid} }
    remote { auth = psk
      id = ${rid} }
    children {
      net {
        local_ts = ${c.localTs}
        remote_ts = ${c.remoteTs}
        esp_proposals = aes128-sha256
        start_action = ${n === 'a' ? 'trap' : 'none'}
      }
    }
  }
}
secrets {
  ike-lab { id-a = gwa.lab
    id-b = gwb.lab
    secret = "${c.psk}" }
}
`);
  }

  /**
   * The baseline, then one fault; every SA is gone afterwards. Returns the target the test should
   * use and whether the tunnel is to be brought up before the probe (true) or during it (false: the
   * exchange that fails must be in the captures and the log lines of the test's time).
   */
  set(fault: IpsecFault): { target: string; upBefore: boolean } {
    const { a, b } = this;
    for (const h of [a, b]) h.try(['swanctl', '--terminate', '--ike', 's2s', '--force', '--timeout', '2']);
    this.writeConf('a', { localTs: '10.1.0.0/24', remoteTs: fault === 'selector-missing' ? '10.2.0.0/24' : '10.2.0.0/24,10.2.1.0/24', psk: this.psk });
    this.writeConf('b', { localTs: '10.2.0.0/24,10.2.1.0/24', remoteTs: fault === 'ts-refused' ? '10.1.99.0/24' : '10.1.0.0/24', psk: fault === 'psk-mismatch' ? `${this.psk}-other` : this.psk,
      // Disjoint IKE proposals: cipher, integrity and DH group all differ.
      ...(fault === 'proposal-mismatch' ? { proposals: 'aes256-sha512-modp3072' } : {}) });
    for (const h of [a, b]) h.run(['swanctl', '--load-all', '--noprompt']);
    return { target: fault === 'selector-missing' ? '10.2.1.22' : '10.2.0.22', upBefore: fault === 'healthy' || fault === 'selector-missing' };
  }

  /** swanctl --initiate on A; its exit status (0 when the child SA came up). */
  initiate(): number | null {
    return this.a.try(['swanctl', '--initiate', '--child', 'net', '--timeout', '8'], 12_000).status;
  }

  cleanup(): void { this.lab.cleanup(); }
}

function strongswanConf(): string {
  return `charon {
  load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 2
  filelog {
    charon { path = /var/log/charon.log
      time_format = %b %e %T
      flush_line = yes
      default = 1
      ike = 2
      cfg = 2
    }
  }
  syslog { daemon { default = -1 } }
}
swanctl {
  load = pem pkcs1 x509 pubkey random nonce
}
`;
}
