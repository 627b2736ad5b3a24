import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  endpointPortMismatch, pairDumps, parseWgDump, parseWgTransfer, peerAllows, peerForAddress, peersWithoutKeepalive, quotePeer, wgTransferDelta,
} from '../../../shared/evidence/wg.ts';
import { fx } from './helpers.ts';

const dump = (s: string, h: 'A' | 'B', f = 'wg-dump-after.txt') => {
  const r = parseWgDump(fx(`wg/${s}/${h}/${f}`));
  assert.deepEqual(r.problems, []);
  return r.facts;
};

test('wg show all dump: interface and peer lines of both ends (real wireguard-go output)', () => {
  const a = dump('healthy', 'A'), b = dump('healthy', 'B');
  assert.equal(a.interfaces.length, 1);
  assert.equal(a.interfaces[0]!.listenPort, 51821);
  assert.equal(b.interfaces[0]!.listenPort, 51822);
  const pa = a.peers[0]!;
  assert.deepEqual(pa.endpoint, { host: '203.0.113.2', port: 51822 });
  assert.deepEqual(pa.allowedIps.map((p) => p.text), ['10.0.0.0/24', '192.168.200.0/24', 'fd10::/64', 'fd00:200::/64']);
  assert.equal(pa.keepalive, 25);
  assert.ok(pa.latestHandshake > 1_700_000_000, 'the handshake completed before the test');
  assert.equal(b.peers[0]!.keepalive, null);
  assert.equal(b.peers[0]!.endpoint?.host, '203.0.113.1', 'B learnt A\'s endpoint from the handshake');
});

test('the private key is never kept, and a quoted peer carries no secret', () => {
  const text = fx('wg/healthy/A/wg-dump.txt');
  const priv = text.split('\n')[0]!.split('\t')[1]!;
  const facts = parseWgDump(text).facts;
  assert.ok(!JSON.stringify(facts).includes(priv));
  assert.ok(!quotePeer(facts.peers[0]!).includes(priv));
  assert.match(quotePeer(facts.peers[0]!), /allowed-ips 10\.0\.0\.0\/24,192\.168\.200\.0\/24/);
});

test('keys pair up in the healthy dumps and not across two different networks', () => {
  const ok = pairDumps(dump('healthy', 'A'), dump('healthy', 'B'));
  assert.deepEqual(ok.problems, []);
  assert.ok(ok.peerOnA && ok.peerOnB);
  const bad = pairDumps(dump('healthy', 'A'), dump('fw-drop', 'B'));
  assert.equal(bad.problems.length, 2);
  assert.match(bad.problems[0]!, /B has no peer with A's public key/);
  // One side only wrong: B knows A, but A's peer key is a stranger's.
  const a = dump('healthy', 'A'), b = dump('healthy', 'B');
  const a2 = { ...a, peers: a.peers.map((p) => ({ ...p, publicKey: dump('fw-drop', 'B').interfaces[0]!.publicKey })) };
  const half = pairDumps(a2, b);
  assert.equal(half.problems.length, 1);
  assert.match(half.problems[0]!, /A has no peer with B's public key/);
});

test('AllowedIPs: longest prefix wins; the allowedips scenario lacks A\'s tunnel address on B', () => {
  const b = dump('allowedips', 'B');
  assert.equal(peerForAddress(b, '10.0.0.1'), null);
  assert.equal(peerForAddress(b, '10.0.0.99')?.prefix.text, '10.0.0.99/32');
  const hb = dump('healthy', 'B');
  assert.equal(peerForAddress(hb, '10.0.0.1')?.prefix.text, '10.0.0.1/32');
  assert.equal(peerForAddress(hb, 'fd10::1')?.prefix.text, 'fd10::1/128');
  assert.equal(peerForAddress(hb, 'fd10::2'), null);
  const a = dump('healthy', 'A');
  assert.equal(peerForAddress(a, '192.168.200.22')?.prefix.text, '192.168.200.0/24');
  assert.ok(peerAllows(a.peers[0]!, 'fd00:200::22'));
  // Two peers: the more specific one takes the address.
  const two = parseWgDump([
    'wg0\t(none)\tYG/l1ERJwLXfw+P7jcYLinl+PQTyJNBHRhBSLoZDzlg=\t51820\toff',
    'wg0\t4hUvNiqaaOt3MAZ4vUt9/sp8BQHm4nhc4xa31UQxN0s=\t(none)\t(none)\t10.0.0.0/16\t0\t0\t0\toff',
    'wg0\tsMITN9NvfN4gv8uPicFn5lXiekoEnpCttdOVgkh4b3I=\t(none)\t(none)\t10.0.3.0/24\t0\t0\t0\toff',
  ].join('\n')).facts;
  assert.equal(peerForAddress(two, '10.0.3.9')?.peer.publicKey, 'sMITN9NvfN4gv8uPicFn5lXiekoEnpCttdOVgkh4b3I=');
  assert.equal(peerForAddress(two, '10.0.4.9')?.peer.publicKey, '4hUvNiqaaOt3MAZ4vUt9/sp8BQHm4nhc4xa31UQxN0s=');
});

test('endpoint port against the far end\'s ListenPort', () => {
  const m = endpointPortMismatch(dump('wrong-port', 'A'), dump('wrong-port', 'B'));
  assert.ok(m);
  assert.equal(m.endpointPort, 51823);
  assert.equal(m.listenPort, 51822);
  assert.equal(endpointPortMismatch(dump('healthy', 'A'), dump('healthy', 'B')), null);
  // A wrong port: the handshake never completed.
  assert.equal(dump('wrong-port', 'A').peers[0]!.latestHandshake, 0);
});

test('no PersistentKeepalive on the side with an Endpoint', () => {
  assert.deepEqual(peersWithoutKeepalive(dump('healthy', 'A')), []);
  const text = fx('wg/healthy/A/wg-dump.txt').replace(/\t25\n/, '\toff\n');
  assert.equal(peersWithoutKeepalive(parseWgDump(text).facts).length, 1);
  // B's peer has a learnt endpoint but keepalive off: B is not the side behind NAT; the rule decides who.
  assert.equal(peersWithoutKeepalive(dump('healthy', 'B')).length, 1);
});

test('pasted with prompts, CRLF, blank lines, the single-interface form, and cut short', () => {
  const body = fx('wg/healthy/B/wg-dump-after.txt');
  const pasted = `root@beta:~# wg show all dump\r\n\r\n${body.replace(/\n/g, '\r\n')}root@beta:~# \r\n`;
  const r = parseWgDump(pasted);
  assert.deepEqual(r.problems, []);
  assert.equal(r.facts.peers.length, 1);
  const single = body.split('\n').filter((l) => l).map((l) => l.split('\t').slice(1).join('\t')).join('\n');
  const s = parseWgDump(`$ sudo wg show wg0 dump\n${single}\n`);
  assert.deepEqual(s.problems, []);
  assert.equal(s.facts.peers[0]!.iface, 'wg0');
  const cut = body.slice(0, body.length - 30);
  const c = parseWgDump(cut);
  assert.equal(c.facts.interfaces.length, 1, 'the interface line before the cut is kept');
  assert.equal(c.problems.length, 1);
  assert.equal(c.problems[0]!.line, 2);
});

test('hostile lines are bounded and named by line number', () => {
  const long = 'x'.repeat(100_000);
  const r = parseWgDump(`${long}\nwg0\tnot a key\n`);
  assert.ok(r.problems.some((p) => p.line === 1 && /cut/.test(p.message)));
  assert.ok(r.problems.some((p) => p.line === 2));
  assert.equal(r.facts.peers.length, 0);
});

test('wg show all transfer before and after: bytes per peer during the test', () => {
  const before = parseWgTransfer(fx('wg/fw-drop/B/before-wg-transfer.txt')).facts;
  const after = parseWgTransfer(fx('wg/fw-drop/B/after-wg-transfer.txt')).facts;
  const d = wgTransferDelta(before, after);
  assert.equal(d.length, 1);
  assert.ok(d[0]!.rx > 0, 'B received the test packets through the tunnel');
});

test('two interfaces on A: the pairing finds the one whose key B knows; AllowedIPs lookups per interface', () => {
  const a = parseWgDump(fx('wg/healthy/A/wg-dump-after.txt')).facts;
  const b = parseWgDump(fx('wg/healthy/B/wg-dump-after.txt')).facts;
  const other = parseWgDump(fx('wg/fw-drop/A/wg-dump-after.txt').replace(/^wg0\t/gm, 'wg1\t')).facts;
  const both = { interfaces: [...other.interfaces, ...a.interfaces], peers: [...other.peers, ...a.peers] };
  const p = pairDumps(both, b);
  assert.deepEqual(p.problems, []);
  assert.equal(p.aIface!.iface, 'wg0');
  assert.equal(p.peerOnA!.iface, 'wg0');
  assert.equal(peerForAddress(both, '192.168.200.22', 'wg1')!.peer.iface, 'wg1');
  assert.equal(peerForAddress(both, '192.168.200.22', 'wg0')!.peer.iface, 'wg0');
});

test('an IPv6 endpoint in brackets and a peer with a preshared key (whose value is not kept)', () => {
  const psk = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=';
  const r = parseWgDump(`wg0\t4hUvNiqaaOt3MAZ4vUt9/sp8BQHm4nhc4xa31UQxN0s=\t${psk}\t[fd00:1::2]:51822\tfd10::/64\t1796267752\t10\t20\t25\n`);
  assert.deepEqual(r.problems, []);
  const p = r.facts.peers[0]!;
  assert.deepEqual(p.endpoint, { host: 'fd00:1::2', port: 51822 });
  assert.equal(p.hasPresharedKey, true);
  assert.ok(!JSON.stringify(r.facts).includes(psk));
  assert.match(quotePeer(p), /endpoint \[fd00:1::2\]:51822/);
});
