// Inputs for the report tests: the seed captures loaded through the real ingest path, and an
// analysis result for them — the engine's own when it is available, else one assembled by hand
// from the seeds' checkpoint ground truth (.checkpoints.tsv) so the exports can be developed and
// checked before the engine lands.
import { readFileSync } from 'node:fs';
import { loadAll } from '../../../shared/ingest/load-capture.ts';
import type { AnalysisResult, CheckpointLabel, Hop, HopStage } from '../../../shared/analysis/types.ts';
import type { ReportCapture } from '../../../shared/report/types.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';

/** A seed capture loaded as plain packet objects (tests use array methods on them). */
export type SeedCapture = ReportCapture & { packets: Packet[] };
import type { Note } from '../../../shared/report/notes.ts';

export const SEEDS = new URL('../../../../shared/reference/seed-captures/', import.meta.url);

export async function loadSeed(file: string): Promise<SeedCapture> {
  const url = new URL(file, SEEDS);
  const r = await loadAll(readFileSync(url), { keepBytes: true });
  return { name: file, file: url.pathname, packets: r.packets, frames: r.frames, interfaces: r.interfaces };
}

export function groundTruth(file: string): Map<string, number> {
  const text = readFileSync(new URL(file, SEEDS), 'utf8');
  const m = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    const [label, frame] = line.trim().split('\t');
    if (label && frame) m.set(label, Number(frame));
  }
  return m;
}

/** A hand-assembled result for the seeds (healthy path), from their ground truth. */
export function handResult(a: SeedCapture, b: SeedCapture): AnalysisResult {
  const gtA = groundTruth('endpoint-a.checkpoints.tsv');
  const gtB = groundTruth('host-beta.checkpoints.tsv');
  const cp = (label: string, side: 'A' | 'B', frame: number) => {
    const p = (side === 'A' ? a : b).packets[frame - 1]!;
    return { label: label as CheckpointLabel, capture: side, frame, iface: p.iface, dir: p.dir === 'in' || p.dir === 'out' ? p.dir : null, t_s: 0 };
  };
  const checkpoints = [...[...gtA].map(([l, f]) => cp(l, 'A', f)), ...[...gtB].map(([l, f]) => cp(l, 'B', f))];
  const at = (l: string) => checkpoints.find((c) => c.label === l)!;
  const hop = (l: string, stage: HopStage, transform: string | null, latency: number | null): Hop => {
    const c = at(l);
    return { capture: c.capture, frame: c.frame, checkpoint: c.label, stage, iface: c.iface, transform, latency_s: latency };
  };
  return {
    captures: {
      A: { file: a.file ?? null, name: a.name, packets: a.packets.length, role: 'initiator', interfaces: [{ name: 'wg0', kind: 'tunnel' }, { name: 'wlan0', kind: 'wan' }] },
      B: { file: b.file ?? null, name: b.name, packets: b.packets.length, role: 'responder', interfaces: [{ name: 'eth0', kind: 'wan' }, { name: 'wg0', kind: 'tunnel' }, { name: 'eth1', kind: 'lan' }] },
    },
    clock: { offset_s: 0.0002, skew_ppm: 0, uncertainty_s: 0.0001, pairs: 6, ref_s: a.packets[0]!.tsSec + a.packets[0]!.tsNsec / 1e9, method: 'envelope', pairs_a_to_b: 3, pairs_b_to_a: 3 },
    flow: { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', sport: 45734, dport: 80 },
    checkpoints,
    lineage: [
      { direction: 'request', summary: 'SYN', hops: [
        hop('A1', 'tunnel-out', null, null), hop('A4', 'encrypted-out', 'encrypted (WireGuard transport, 96 B)', 0.002175),
        hop('B3', 'encrypted-in', 'NAT 192.168.1.11:51821 → 198.51.100.1:51821', 0.00004), hop('B4', 'decrypted-in', 'decrypted', 0.000026),
        hop('B5', 'forwarded-out', 'SNAT 10.0.0.1 → 192.168.200.2', 0.000023)] },
      { direction: 'reply', summary: 'SYN-ACK', hops: [
        hop('B6', 'reply-in', null, null), hop('B7', 'reply-tunnel-out', 'NAT undone 192.168.200.2 → 10.0.0.1', 0.000008),
        hop('B8', 'encrypted-reply-out', 'encrypted', 0.000031), hop('A5', 'encrypted-reply-in', 'NAT 198.51.100.1 → 192.168.1.11', 0.00019),
        hop('A6', 'decrypted-reply-in', 'decrypted', 0.000019)] },
    ],
    lineage_total: 2,
    findings: [],
    verdict: { status: 'ok', first_missing: null, class: 'none', host: null, summary: 'The test connection passed every checkpoint on both hosts.' },
    variant: { handshake: 'seen', path: 'forwarded', tunnel: 'wireguard' },
  };
}

/**
 * The same session as if B had not forwarded the SYN: B5 onwards removed from the hand result, with
 * the finding the primer prescribes. Used to draw the failure form of every export.
 */
export function handFailure(a: SeedCapture, b: SeedCapture): AnalysisResult {
  const ok = handResult(a, b);
  const keep = new Set(['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4']);
  const checkpoints = ok.checkpoints.filter((c) => keep.has(c.label));
  const b4 = checkpoints.find((c) => c.label === 'B4')!;
  return {
    ...ok,
    checkpoints,
    lineage: [{ ...ok.lineage[0]!, hops: ok.lineage[0]!.hops.slice(0, 4), lost_after: 'decrypted-in' }],
    lineage_total: 1,
    findings: [{
      severity: 'error', checkpoint: 'B5', host: 'B', class: 'firewall-or-routing',
      title: 'The decrypted SYN reaches B\'s tunnel interface but is never forwarded to the LAN',
      detail: 'B accepts the packet from the tunnel, then drops it before it leaves on eth1.',
      evidence: [{ capture: 'B', frame: b4.frame }, { capture: 'A', frame: 1 }],
      next_steps: ['On B run `sysctl net.ipv4.ip_forward` and expect 1.', 'List the forward chain with `nft list ruleset` and look for a drop <b>before</b> an accept for wg0 → eth1.'],
    }],
    verdict: { status: 'fail', first_missing: 'B5', class: 'firewall-or-routing', host: 'B', summary: 'The SYN dies on B between decryption and forwarding: check forwarding and the forward firewall on B.' },
  };
}

export function sampleNotes(): Note[] {
  return [
    { id: 'n1', target: { kind: 'session' }, text: 'Captured during the 14:00 change window <script>alert(1)</script> & co.', createdAt: '2026-11-22T02:00:00.000Z' },
    { id: 'n2', target: { kind: 'packet', capture: 'B', frame: 4 }, text: 'NOTE-PKT: this is where the SYN surfaces on B', createdAt: '2026-11-22T02:01:00.000Z' },
    { id: 'n3', target: { kind: 'checkpoint', label: 'A1' }, text: 'NOTE-CP: curl started here', createdAt: '2026-11-22T02:02:00.000Z' },
    { id: 'n4', target: { kind: 'finding', index: 0 }, text: 'NOTE-FIND: vendor asked for this one', createdAt: '2026-11-22T02:03:00.000Z' },
  ];
}
