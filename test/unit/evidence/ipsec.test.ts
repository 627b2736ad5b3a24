import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseIpsecLog, parseIpsecStatus, parseSwanctl, parseXfrmPolicy, parseXfrmState, proposalMismatch, proposalsIntersect, selectorsCover,
} from '../../../shared/evidence/ipsec.ts';
import { fx } from './helpers.ts';

test('swanctl --list-sas from the IPsec lab: IKE SA, child SA, SPIs, packets and selectors', () => {
  const r = parseSwanctl(fx('ipsec/healthy/A-sas.txt'));
  assert.deepEqual(r.problems, []);
  const c = r.facts[0]!;
  assert.equal(c.name, 's2s');
  assert.equal(c.state, 'ESTABLISHED');
  assert.equal(c.localId, 'gwa.lab');
  assert.equal(c.remote, '198.51.100.2[4500]');
  assert.equal(c.proposal, 'AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048');
  const ch = c.children[0]!;
  assert.equal(ch.name, 'net');
  assert.equal(ch.state, 'INSTALLED');
  assert.equal(ch.packetsIn, 5);
  assert.equal(ch.spiOut, '8ec4633e');
  assert.deepEqual(ch.localTs.map((p) => p.text), ['10.1.0.0/24']);
  assert.deepEqual(ch.remoteTs.map((p) => p.text), ['10.2.0.0/24', '10.2.1.0/24']);
});

test('selectors: the lab\'s selector-missing SA does not cover 10.2.1.22, the healthy one does; both directions', () => {
  const healthy = parseSwanctl(fx('ipsec/healthy/A-sas.txt')).facts;
  const missing = parseSwanctl(fx('ipsec/selector-missing/A-sas.txt')).facts;
  assert.equal(selectorsCover(healthy, [], '10.1.0.22', '10.2.1.22', 'local-to-remote').covered, true);
  const m = selectorsCover(missing, [], '10.1.0.22', '10.2.1.22', 'local-to-remote');
  assert.equal(m.covered, false);
  assert.deepEqual(m.candidates, ['s2s/net: 10.1.0.0/24 === 10.2.0.0/24']);
  assert.equal(selectorsCover(missing, [], '10.1.0.22', '10.2.0.22', 'local-to-remote').covered, true, 'the neighbour subnet is covered');
  // Gateway B sees the same flow with local and remote swapped.
  const b = parseSwanctl(fx('ipsec/selector-missing/B-sas.txt')).facts;
  assert.equal(selectorsCover(b, [], '10.1.0.22', '10.2.1.22', 'remote-to-local').covered, false);
  assert.equal(selectorsCover(b, [], '10.1.0.22', '10.2.0.22', 'remote-to-local').covered, true);
});

test('swanctl --list-conns (with its prompt) and ipsec statusall', () => {
  const c = parseSwanctl(fx('ipsec/hand/swanctl-list-conns.txt'));
  assert.deepEqual(c.problems, []);
  assert.equal(c.facts[0]!.kind, 'conn');
  assert.equal(c.facts[0]!.remoteId, 'gwb.lab');
  assert.deepEqual(c.facts[0]!.children.map((x) => `${x.name} ${x.mode} ${x.localTs[0]!.text}`), ['net TUNNEL 10.1.0.0/24', 'net6 TUNNEL fd01::/64']);
  assert.equal(selectorsCover(c.facts, [], 'fd01::5', 'fd02::7', 'local-to-remote').by, 's2s/net6: fd01::/64 === fd02::/64');
  const s = parseIpsecStatus(fx('ipsec/hand/ipsec-statusall.txt'));
  assert.deepEqual(s.problems, []);
  const conn = s.facts.find((x) => x.kind === 'conn')!, sa = s.facts.find((x) => x.kind === 'sa')!;
  assert.equal(conn.local, '192.168.1.2');
  assert.equal(conn.children[0]!.remoteTs[0]!.text, '10.2.0.0/24');
  assert.equal(sa.state, 'ESTABLISHED');
  assert.equal(sa.remoteId, 'gwb.lab');
  assert.equal(sa.children[0]!.state, 'INSTALLED');
  assert.equal(sa.children[0]!.spiIn, '8ec4633e');
  assert.equal(sa.children[0]!.localTs[0]!.text, '10.1.0.0/24');
});

test('ip xfrm policy (real) and state (keys dropped)', () => {
  const p = parseXfrmPolicy(fx('ipsec/xfrm-policy.txt'));
  assert.deepEqual(p.problems, []);
  assert.equal(p.facts.length, 4);
  const block = p.facts.find((x) => x.action === 'block')!;
  assert.equal(block.dport, 80);
  assert.equal(block.proto, 'tcp');
  const out = p.facts.find((x) => x.dir === 'out' && x.action === 'allow')!;
  assert.equal(out.tmpl[0]!.dst, '198.51.100.2');
  assert.equal(out.tmpl[0]!.mode, 'tunnel');
  assert.equal(selectorsCover([], p.facts, '10.1.0.5', '10.2.0.9', 'local-to-remote').covered, true);
  assert.equal(selectorsCover([], p.facts, '10.1.0.5', '10.9.0.9', 'local-to-remote').covered, false, 'a block policy covers nothing');
  assert.equal(selectorsCover([], p.facts, '10.1.0.5', '10.2.0.9', 'remote-to-local').covered, false, 'no inbound policy for that direction');
  const text = fx('ipsec/xfrm-state.txt');
  const st = parseXfrmState(text);
  assert.deepEqual(st.problems, []);
  assert.equal(st.facts.length, 2);
  assert.equal(st.facts[0]!.spi, '0x8ec4633e');
  assert.deepEqual(st.facts[0]!.algorithms, ['auth-trunc hmac(sha256)', 'enc cbc(aes)']);
  assert.equal(st.facts[0]!.encap, 'espinudp 4500→4500');
  const json = JSON.stringify(st.facts);
  for (const key of text.match(/0x[0-9a-f]{32,}/g)!) assert.ok(!json.includes(key), 'no key material kept');
});

test('log lines: the lab\'s charon logs show proposals that match and established SAs; no false alarm', () => {
  const r = parseIpsecLog(fx('ipsec/healthy/charon-b.log'));
  const kinds = new Set(r.facts.map((e) => e.kind));
  assert.ok(kinds.has('established'));
  assert.ok(kinds.has('proposals-listed'));
  assert.ok(!kinds.has('auth') && !kinds.has('proposal') && !kinds.has('ts') && !kinds.has('id'));
  assert.equal(proposalMismatch(r.facts), null);
});

test('log lines: PSK mismatch on both ends, no proposal chosen, TS_UNACCEPTABLE, no peer config, pluto and Openswan', () => {
  const kinds = (f: string) => parseIpsecLog(fx(`ipsec/hand/${f}`)).facts.map((e) => e.kind);
  assert.deepEqual(kinds('charon-b-psk-mismatch.log'), ['auth', 'auth']);
  assert.match(parseIpsecLog(fx('ipsec/hand/charon-b-psk-mismatch.log')).facts[0]!.text, /MAC mismatched/);
  assert.deepEqual(kinds('charon-a-psk-mismatch.log'), ['auth', 'auth']);
  assert.deepEqual(kinds('charon-a-ts-unacceptable.log'), ['ts', 'established', 'ts']);
  assert.deepEqual(kinds('charon-b-no-peer-config.log'), ['id', 'auth']);
  assert.deepEqual(kinds('pluto-auth.log'), ['auth']);
  assert.deepEqual(kinds('openswan-id.log'), ['id', 'id']);
  const np = parseIpsecLog(fx('ipsec/hand/charon-b-no-proposal.log')).facts;
  assert.deepEqual(np.map((e) => e.kind), ['proposals-listed', 'proposals-listed', 'proposal', 'proposal']);
  const mm = proposalMismatch(np);
  assert.ok(mm);
  assert.match(mm.received.text, /MODP_4096/);
});

test('proposal intersection by transform type', () => {
  const a = 'IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048';
  assert.ok(proposalsIntersect([a], [a]));
  assert.ok(!proposalsIntersect([a], ['IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072']), 'DH differs');
  assert.ok(!proposalsIntersect([a], ['IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048']), 'cipher differs');
  assert.ok(proposalsIntersect([a], ['IKE:AES_CBC_256/AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072/MODP_2048']), 'one algorithm of each type in common');
  assert.ok(proposalsIntersect(['ESP:AES_GCM_16_128/NO_EXT_SEQ'], ['ESP:AES_GCM_16_128/ECP_256/NO_EXT_SEQ']), 'ESP without PFS on one side still agrees on the cipher');
  assert.ok(!proposalsIntersect(['ESP:AES_GCM_16_128/NO_EXT_SEQ'], ['IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/ECP_256']), 'different protocols');
});
