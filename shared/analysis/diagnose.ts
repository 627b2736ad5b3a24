// Findings and verdict: derive the facts every rule reads once, run the registered rules that
// apply to the tunnel kind at hand (shared/analysis/rules/), and choose the verdict.

import { describeOddName, isInterfaceName, proseData, shellQuote } from '../util/shell.ts';
import type { Rec, Side } from './prepare.ts';
import { kindAt } from './prepare.ts';
import { Inner } from './inner.ts';
import { ep, epd, type EngineFacts, type Facts, type IfaceWords } from './facts.ts';
import type { AnalysisResult, CheckpointLabel, Finding, Verdict } from './types.ts';
import { PATH_ORDER } from './types.ts';
import { defaultTunnel, recogniseTunnel, tunnelModules } from './tunnels/index.ts';
import { ruleList } from './rules/index.ts';

/** The engine's input to diagnose() (kept under its old name for callers). */
export type { EngineFacts as Facts } from './facts.ts';

function ifaceNames(s: Side, kind: 'tunnel' | 'wan' | 'lan'): string[] {
  return [...s.ifaces.values()].filter((f) => f.kind === kind).map((f) => f.name);
}

/**
 * Interface words for commands: a name from the capture goes in only when it obeys the kernel's
 * rules (and then shell-quoted, since such a name may still hold `$` or `;`); otherwise a
 * placeholder, and the odd name is reported as data in a sentence of its own.
 */
function ifaceWords(A: Side, B: Side, defaultTunnel: string): { ifw: IfaceWords; odd: string[] } {
  const odd: string[] = [];
  const word = (name: string | undefined, fallback: string, placeholder: string, what: string): string => {
    if (name === undefined || name === '') return fallback;
    if (isInterfaceName(name)) return shellQuote(name);
    if (!odd.some((s) => s.startsWith(what))) odd.push(describeOddName(what, name));
    return placeholder;
  };
  return {
    ifw: {
      tunA: word(ifaceNames(A, 'tunnel')[0], defaultTunnel, '<A\'s tunnel interface>', 'A\'s tunnel interface name'),
      tunB: word(ifaceNames(B, 'tunnel')[0], defaultTunnel, '<B\'s tunnel interface>', 'B\'s tunnel interface name'),
      wanA: word(ifaceNames(A, 'wan')[0], '<A\'s WAN interface>', '<A\'s WAN interface>', 'A\'s WAN interface name'),
      wanB: word(ifaceNames(B, 'wan')[0], '<B\'s WAN interface>', '<B\'s WAN interface>', 'B\'s WAN interface name'),
      lanB: word(ifaceNames(B, 'lan')[0], '<B\'s LAN interface>', '<B\'s LAN interface>', 'B\'s LAN interface name'),
    },
    odd,
  };
}

const sevRank = (s: Finding['severity']): number => (s === 'error' ? 0 : s === 'warning' ? 1 : 2);
const order = (x: Finding): number => (x.checkpoint === null ? 99 : PATH_ORDER.indexOf(x.checkpoint) < 0 ? 98 : PATH_ORDER.indexOf(x.checkpoint));

/** Derives what every rule reads (see facts.ts). */
export function deriveFacts(e: EngineFacts): Facts {
  const { A, B, T, labels } = e;
  const L = (l: CheckpointLabel): { side: Side; r: Rec } | undefined => labels.get(l);
  const found = recogniseTunnel(A, B);
  const hasCarrier = A.outer.length + B.outer.length > 0;
  // The kind is what the carriers show; with none, the device names may still tell the module.
  const tunnel = found ?? defaultTunnel();
  // The kind is what the carriers show; a module found by device names alone leaves it unknown.
  const kind: AnalysisResult['variant']['tunnel'] = found !== null && found.outers.some((o) => A.outerKinds.has(o) || B.outerKinds.has(o))
    ? found.kind : (hasCarrier ? tunnel.kind : 'unknown');

  const hsSeen = L('A2') !== undefined || L('B1') !== undefined;
  const dataSeen = tunnelModules().some((m) => m.sessionSeen(A, B));
  const handshake: AnalysisResult['variant']['handshake'] = hsSeen ? 'seen' : (dataSeen ? 'recent' : 'missing');
  const path: AnalysisResult['variant']['path'] = e.hub ? 'hub-and-spoke' : e.p2p ? 'point-to-point' : (L('B5') !== undefined ? 'forwarded' : 'unknown');
  const variant = { handshake, path, tunnel: kind };

  // Which labels a healthy run would show in these captures.
  const expected = new Set<CheckpointLabel>(PATH_ORDER);
  const aHasTunnel = [...A.ifaces.values()].some((x) => x.kind === 'tunnel') || A.multiIface;
  const bHasTunnel = [...B.ifaces.values()].some((x) => x.kind === 'tunnel') || B.multiIface;
  const aHasWan = A.outer.length > 0 || A.multiIface;
  const bHasWan = B.outer.length > 0 || B.multiIface;
  const notCaptured: string[] = [];
  if (!aHasTunnel) { expected.delete('A1'); expected.delete('A6'); notCaptured.push(`A's tunnel interface`); }
  if (!bHasTunnel) { expected.delete('B4'); expected.delete('B7'); notCaptured.push(`B's tunnel interface`); }
  if (!aHasWan) { for (const l of ['A2', 'A3', 'A4', 'A5'] as const) expected.delete(l); notCaptured.push(`A's WAN interface`); }
  if (!bHasWan) { for (const l of ['B1', 'B2', 'B3', 'B8'] as const) expected.delete(l); notCaptured.push(`B's WAN interface`); }
  if (handshake === 'recent') for (const l of ['A2', 'A3', 'B1', 'B2'] as const) expected.delete(l);
  if (e.p2p) { expected.delete('B5'); expected.delete('B6'); }
  if (!B.multiIface && e.lanTuple === null && L('B7') !== undefined) { expected.delete('B5'); expected.delete('B6'); }
  let firstMissing: CheckpointLabel | null = null;
  if (T !== null) {
    for (const l of PATH_ORDER) {
      if (expected.has(l) && !labels.has(l)) { firstMissing = l; break; }
    }
  }

  let bListen: string | null = null;
  for (const r of B.outer) {
    if (r.dir === 'in') { bListen = epd(r.p); break; }
    if (r.dir === 'out') { bListen = ep(r.p); break; }
  }
  // From the columns: in a healthy bulk flow no member qualifies, and the search reads them all.
  const mis = T === null ? undefined
    : e.offTunnelA !== undefined ? (e.offTunnelA >= 0 ? new Inner(e.fA.fc, e.offTunnelA) : undefined)
      : e.fA.findAt((fwd, i) => fwd && kindAt(e.fA.fc.side.tm, i) !== 'tunnel');
  // Handshake pairs of whichever kind has them (the old engine read them whatever the kind).
  const hsk = tunnelModules().map((m) => m.handshakes(A, B)).find((h) => h.inits.length + h.resps.length + h.bInits.length + h.bResps.length > 0) ??
    { inits: [], resps: [], bInits: [], bResps: [] };
  const { inits, resps, bInits, bResps } = hsk;
  const { ifw, odd } = ifaceWords(A, B, tunnel.defaultDevice);
  const a2 = L('A2');
  const f: Facts = {
    ...e, tunnel, kind, variant, L, expected, firstMissing, notCaptured,
    dst: T !== null ? proseData(T.dport !== undefined ? `${T.dst}:${T.dport}` : T.dst) : '?',
    ifw, oddNames: odd, bListen,
    misroutedA1: mis !== undefined ? { side: A, r: mis.rec } : undefined,
    inits, resps, bInits, bResps,
    say: {
      // Addresses are capture text (a pasted capture may hold any token there): prose-ready here.
      ...ifw, dstAddr: proseData(T?.dst ?? '?'), aTunAddr: proseData(T?.src || '?'), bListen: bListen !== null ? proseData(bListen) : null,
      target: a2 !== undefined ? proseData(epd(a2.r.p)) : null, inits: inits.length, resps: resps.length,
    },
  };
  const evidence = e.options?.evidence;
  if (evidence !== undefined) f.evidence = evidence;
  return f;
}

export function diagnose(e: EngineFacts): { findings: Finding[]; verdict: Verdict; variant: AnalysisResult['variant'] } {
  const f = deriveFacts(e);
  let findings: Finding[] = [];
  const produced = new Map<string, Finding[]>();
  for (const rule of ruleList()) {
    if (rule.postPass === true) continue;
    if (f.T === null && rule.withoutFlow !== true) continue;
    if (!rule.tunnels.includes('*') && !rule.tunnels.includes(f.tunnel.kind)) continue;
    let out: Finding[];
    try {
      if (!rule.applies(f)) continue;
      out = rule.evaluate(f);
    } catch (err) {
      // One faulty rule must not cost the whole analysis: say which one, keep the others.
      out = [{
        severity: 'info', checkpoint: null, host: 'A', class: 'none', rule: rule.id,
        title: `Diagnosis rule ${rule.id} failed on these captures and was skipped`,
        detail: proseData(String(err instanceof Error ? err.message : err)).slice(0, 300), evidence: [], next_steps: [],
      }];
    }
    for (const x of out) x.rule ??= rule.id;
    produced.set(rule.id, out);
    findings.push(...out);
  }
  // A more specific reading of a sign replaces the generic one it overrides.
  const dropped = new Set<string>();
  for (const rule of ruleList()) {
    if (rule.overrides === undefined || !(produced.get(rule.id) ?? []).some((x) => x.severity === 'error')) continue;
    for (const id of rule.overrides) dropped.add(id);
  }
  if (dropped.size > 0) findings = findings.filter((x) => x.severity !== 'error' || x.rule === undefined || !dropped.has(x.rule));
  const errors = findings.filter((x) => x.severity === 'error').sort((x, y) => order(x) - order(y));
  let verdict: Verdict;
  if (f.T === null && errors.length === 0) {
    verdict = {
      status: 'inconclusive', first_missing: null, class: 'none', host: null,
      summary: f.A.recs.length === 0 || f.B.recs.length === 0
        ? 'One of the captures is empty; capture on both hosts while making the test connection.'
        : 'No test connection found in either capture (no inner packet on a tunnel interface and no connection attempt).',
    };
  } else if (errors.length > 0) {
    const x = errors[0]!;
    verdict = { status: 'fail', first_missing: f.firstMissing, class: x.class, host: x.host, summary: x.title };
  } else if (f.firstMissing !== null) {
    verdict = { status: 'inconclusive', first_missing: f.firstMissing, class: 'none', host: null, summary: `${f.firstMissing} not seen` };
  } else {
    const n = [...f.expected].filter((l) => f.labels.has(l)).length;
    verdict = {
      status: 'ok', first_missing: null, class: 'none', host: null,
      summary: `The test connection to ${f.dst} passes all ${n} expected checkpoints${f.variant.handshake === 'recent' ? ' (session already established)' : ''}${f.p2p ? ' (point-to-point)' : ''}.`,
    };
  }
  findings.sort((x, y) => sevRank(x.severity) - sevRank(y.severity) || order(x) - order(y));
  return { findings, verdict, variant: f.variant };
}
