// IKE stage rules on the real strongSwan captures (test/lab/ipsec/captures) and their neighbours:
// the same refusal with the clear-text notify or the sizes missing (short text), a notify that asks
// for a retry (INVALID_KE_PAYLOAD, COOKIE) followed by a successful exchange, the IKEv1 refusal
// without B's complaints, and the refused message seen only on A. Each must land on the exchange
// that fails, with the side whose log to read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type AnalysisResult, type CaptureInput } from '../../../shared/analysis/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

const LAB = fileURLToPath(new URL('../../lab/ipsec/captures/', import.meta.url));
const FLOW = 'tcp 10.2.0.22:80';

async function load(name: string, file: string): Promise<CaptureInput & { packets: Packet[] }> {
  const path = `${LAB}${name}/${file}`;
  const r = await loadCompact(openCapture(path), { summary: false });
  return { name: path, file: path, packets: Array.from(r.packets, (p) => toPlainPacket(p)), interfaces: r.interfaces };
}

const verdict = (r: AnalysisResult): string[] => [r.verdict.status, String(r.verdict.first_missing), r.verdict.class, String(r.verdict.host)];
const ruleOf = (r: AnalysisResult): string | undefined => r.findings.find((f) => f.severity === 'error' && f.title === r.verdict.summary)?.rule;

test('IKEv2 proposal refusal: named from the notify; without it (short text) still a refusal at B', async () => {
  const a = await load('ikev2-proposal-mismatch', 'A.pcapng'), b = await load('ikev2-proposal-mismatch', 'B.pcapng');
  let r = analyze(a, b, { flow: FLOW });
  assert.deepEqual(verdict(r), ['fail', 'A4', 'ipsec-config', 'B']);
  assert.equal(ruleOf(r), 'ike-sa-init-refused');
  assert.match(r.verdict.summary, /NO_PROPOSAL_CHOSEN/);
  const f = r.findings.find((x) => x.rule === 'ike-sa-init-refused')!;
  assert.ok(f.next_steps.some((s) => /On B: .*charon/.test(s)), 'says whose log to read');
  // The same wire without notify, flags or sizes (what `tcpdump -n` text keeps).
  const strip = (c: typeof a): CaptureInput => ({ ...c, packets: c.packets.map((p) => (p.ike ? { ...p, ike: { ...p.ike, notify: undefined, payloads: undefined, flags: undefined } } : p)) });
  r = analyze(strip(a), strip(b), { flow: FLOW });
  assert.deepEqual(verdict(r), ['fail', 'A4', 'ipsec-config', 'B']);
  assert.equal(ruleOf(r), 'ike-sa-init-refused');
});

test('IKE_SA_INIT answered with INVALID_KE_PAYLOAD or COOKIE, then retried and completed: no refusal', async () => {
  // The healthy exchange with a first round answered by a notify asking for a retry.
  for (const notify of [17, 16390]) {
    const a = await load('healthy', 'A.pcapng'), b = await load('healthy', 'B.pcapng');
    for (const c of [a, b]) {
      const i = c.packets.findIndex((p) => p.ike?.exchange === 34);
      const req = c.packets[i]!, resp = c.packets.find((p) => p.ike?.exchange === 34 && ((p.ike.flags ?? 0) & 0x20) !== 0)!;
      const early = (p: Packet, dt: number, ike: Partial<NonNullable<Packet['ike']>>): Packet =>
        ({ ...p, tsNsec: p.tsNsec >= dt ? p.tsNsec - dt : p.tsNsec, ike: { ...p.ike!, ...ike } });
      c.packets.splice(i, 0, early(req, 4_000_000, {}), early(resp, 3_000_000, { rspi: '0000000000000000', notify: [notify], payloads: [41] }));
      c.packets.forEach((p, k) => { p.frame = k + 1; });
    }
    const r = analyze(a, b, { flow: FLOW });
    assert.equal(r.verdict.status, 'ok', `${notify}: ${JSON.stringify(r.verdict)}`);
    assert.ok(!r.findings.some((f) => f.rule?.startsWith('ike-')), `${notify}: ${r.findings.map((f) => f.rule).join(',')}`);
  }
});

test('IKEv2 IKE_AUTH: a notify-only answer is an authentication refusal, a full one a CHILD_SA refusal', async () => {
  let r = analyze(await load('ikev2-psk-mismatch', 'A.pcapng'), await load('ikev2-psk-mismatch', 'B.pcapng'), { flow: FLOW });
  assert.deepEqual(verdict(r), ['fail', 'A4', 'ipsec-config', 'B']);
  assert.equal(ruleOf(r), 'ike-auth-refused');
  assert.match(r.verdict.summary, /authentication/);
  r = analyze(await load('ikev2-ts-refused', 'A.pcapng'), await load('ikev2-ts-refused', 'B.pcapng'), { flow: FLOW });
  assert.deepEqual(verdict(r), ['fail', 'A4', 'ipsec-config', 'B']);
  assert.equal(ruleOf(r), 'ike-child-refused');
  assert.ok(r.findings.find((f) => f.rule === 'ike-child-refused')!.next_steps.some((s) => /TS_UNACCEPTABLE/.test(s)));
  // Only A's capture of the refusal (B captured nothing useful, e.g. on the wrong interface): still B's answer.
  const a = await load('ikev2-psk-mismatch', 'A.pcapng');
  r = analyze(a, { name: 'empty', packets: [] }, { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-auth-refused', JSON.stringify(r.verdict));
  assert.equal(r.verdict.host, 'B');
});

test('IKEv2 IKE_AUTH reaching B and never answered: B ignores it (not the path)', async () => {
  const a = await load('ikev2-psk-mismatch', 'A.pcapng'), b = await load('ikev2-psk-mismatch', 'B.pcapng');
  const noAuthAnswer = (c: typeof a): CaptureInput => ({ ...c, packets: c.packets.filter((p) => !(p.ike?.exchange === 35 && ((p.ike.flags ?? 0) & 0x20) !== 0)) });
  const r = analyze(noAuthAnswer(a), noAuthAnswer(b), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-auth-ignored', JSON.stringify(r.verdict) + r.findings.map((f) => f.rule).join(','));
  assert.deepEqual([r.verdict.class, r.verdict.host], ['ipsec-config', 'B']);
});

test('IKEv1 MI3: refused at B with or without B\'s complaints; lost on the path when B never sees it', async () => {
  const a = await load('ikev1-psk-mismatch', 'A.pcapng'), b = await load('ikev1-psk-mismatch', 'B.pcapng');
  let r = analyze(a, b, { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-v1-mi3-refused');
  // B stays silent instead of sending informational complaints.
  const quiet = (c: typeof a): CaptureInput => ({ ...c, packets: c.packets.filter((p) => p.ike?.exchange !== 5) });
  r = analyze(quiet(a), quiet(b), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-v1-mi3-refused', JSON.stringify(r.verdict));
  assert.deepEqual([r.verdict.class, r.verdict.host], ['ipsec-config', 'B']);
  // The 4500-blocked capture: MI3 never reaches B.
  r = analyze(await load('ikev1-natt-4500-blocked', 'A.pcapng'), await load('ikev1-natt-4500-blocked', 'B.pcapng'), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-v1-mi3-lost');
  assert.deepEqual(verdict(r), ['fail', 'A4', 'firewall', 'path']);
  assert.match(r.verdict.summary, /UDP 4500/);
});

test('IKEv2 liveness checks retransmitted without an answer: a warning naming whose silence, verdict untouched', async () => {
  const a = await load('healthy', 'A.pcapng'), b = await load('healthy', 'B.pcapng');
  const before = analyze(a, b, { flow: FLOW });
  // A's last IKE message to B, sent again as INFORMATIONAL requests 5, 10, 20 s later; B never sees them.
  const base = [...a.packets].reverse().find((p) => p.ike !== undefined && p.sport === 4500 && ((p.ike.flags ?? 0) & 0x20) === 0 && (p.ike.flags! & 0x08) !== 0)!;
  for (const dt of [5, 10, 20]) {
    a.packets.push({ ...base, frame: a.packets.length + 1, tsSec: base.tsSec + dt, ike: { ...base.ike!, exchange: 37, msgid: 9, flags: 0x08, payloads: [46] } });
  }
  const r = analyze(a, b, { flow: FLOW });
  assert.deepEqual(r.verdict, before.verdict);
  const f = r.findings.find((x) => x.rule === 'ike-dpd-unanswered')!;
  assert.ok(f !== undefined, r.findings.map((x) => x.rule).join(','));
  assert.equal(f.host, 'path');
  assert.equal(f.evidence.length, 3);
  // Answered once: no warning.
  const back = b.packets.find((p) => p.ike !== undefined && ((p.ike.flags ?? 0) & 0x20) !== 0 && p.dport === 4500)!;
  a.packets.push({ ...back, frame: a.packets.length + 1, src: base.dst, dst: base.src, dir: 'in', tsSec: base.tsSec + 21, ike: { ...back.ike!, exchange: 37, msgid: 9, flags: 0x20 } });
  assert.equal(analyze(a, b, { flow: FLOW }).findings.find((x) => x.rule === 'ike-dpd-unanswered'), undefined);
});

/**
 * The IKEv1 capture re-cast one stage further (what the wire shows when phase 1 completes): B's
 * first answer to MI3 becomes MR3, A's next encrypted messages quick mode (QI1, or QI1 and QI2 when
 * B's next message becomes QR1). `quick`: how B answers in quick mode.
 */
function quickMode(c: Awaited<ReturnType<typeof load>>, quick: 'silent' | 'answers', dropQi1 = false): CaptureInput {
  let seenMr3 = false, seenQr1 = false, qi = 0;
  const out: Packet[] = [];
  for (const p of c.packets) {
    const k = p.ike;
    if (k === undefined) { out.push(p); continue; }
    if (k.exchange === 5) {
      if (!seenMr3) { seenMr3 = true; out.push({ ...p, ike: { ...k, exchange: 2, flags: 1 } }); continue; }
      if (quick === 'answers' && !seenQr1 && qi > 0) { seenQr1 = true; out.push({ ...p, ike: { ...k, exchange: 32, msgid: 0x4242, flags: 1 } }); }
      continue;
    }
    if (seenMr3 && k.exchange === 2) {
      qi++;
      if (dropQi1) continue;
      out.push({ ...p, ike: { ...k, exchange: 32, msgid: 0x4242, flags: 1 } });
      continue;
    }
    out.push(p);
  }
  return { ...c, packets: out };
}

test('IKEv1 quick mode (Openswan c): QI1 reaches B and is not accepted → B; never reaches B → path; completed without ESP (d) → A', async () => {
  const a = await load('ikev1-psk-mismatch', 'A.pcapng'), b = await load('ikev1-psk-mismatch', 'B.pcapng');
  let r = analyze(quickMode(a, 'silent'), quickMode(b, 'silent'), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-v1-quick-incomplete', JSON.stringify(r.verdict) + r.findings.map((f) => f.rule).join(','));
  assert.deepEqual([r.verdict.class, r.verdict.host], ['ipsec-config', 'B']);
  // Lost on the way: the path, whichever reading names it (the post-pass sees UDP 4500 lost after 500 passed).
  r = analyze(quickMode(a, 'silent'), quickMode(b, 'silent', true), { flow: FLOW });
  assert.ok(['ike-v1-quick-incomplete', 'ike-port-blocked'].includes(ruleOf(r) ?? ''), JSON.stringify(r.verdict));
  assert.equal(r.verdict.host, 'path');
  r = analyze(quickMode(a, 'answers'), quickMode(b, 'answers'), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-sa-up-no-esp', JSON.stringify(r.verdict) + r.findings.map((f) => f.rule).join(','));
  assert.deepEqual([r.verdict.first_missing, r.verdict.class, r.verdict.host], ['A4', 'ipsec-config', 'A']);
});

test('Openswan (a): IKE_SA_INIT never answered — B\'s capture tells B ignoring it from the path dropping it', async () => {
  const a = await load('ikev2-proposal-mismatch', 'A.pcapng'), b = await load('ikev2-proposal-mismatch', 'B.pcapng');
  const requestsOnly = (c: typeof a): CaptureInput => ({ ...c, packets: c.packets.filter((p) => !(p.ike !== undefined && ((p.ike.flags ?? 0) & 0x20) !== 0)) });
  let r = analyze(requestsOnly(a), requestsOnly(b), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-no-answer', JSON.stringify(r.verdict));
  assert.deepEqual([r.verdict.first_missing, r.verdict.class, r.verdict.host], ['B2', 'ipsec-config', 'B']);
  r = analyze(await load('ike-blocked', 'A.pcapng'), await load('ike-blocked', 'B.pcapng'), { flow: FLOW });
  assert.equal(ruleOf(r), 'ike-no-answer');
  assert.deepEqual([r.verdict.first_missing, r.verdict.class, r.verdict.host], ['B1', 'firewall-or-routing', 'path']);
});
