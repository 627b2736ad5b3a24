// Shared by the evidence-* rules: run the host-evidence checks once per diagnosis and turn an
// issue into a finding. An issue is the cause (severity error, replacing the generic reading of
// the same sign) only when the first missing checkpoint is one it explains; otherwise it is a
// warning about the configuration that the captures do not (yet) show.
import type { Facts } from '../facts.ts';
import { ev } from '../facts.ts';
import { PATH_ORDER, type AnalyzeOptions, type Finding } from '../types.ts';
import { runChecks, type Issue, type IssueId } from '../../evidence/checks.ts';
import type { HostEvidence } from '../../evidence/types.ts';

type Ev = NonNullable<AnalyzeOptions['evidence']>;
const cache = new WeakMap<Facts, Issue[]>();

export function evidenceOf(f: Facts): { A?: HostEvidence; B?: HostEvidence } | null {
  const e = (f.evidence ?? f.options?.evidence) as Ev | undefined;
  return e !== undefined && (e.A !== undefined || e.B !== undefined) ? e : null;
}

/**
 * A capture's interface word as the host's own evidence names it. A placeholder for a name that
 * failed the kernel's rules is unknown; so is "ifN" (a `tcpdump -i any` capture without names),
 * unless the host's `ip -o addr` or `ip -s link` output names index N. Comparing "if3" with a
 * route's "eth1" would otherwise read as a wrong route or an unmatched `iifname` rule.
 */
function word(w: string, h: HostEvidence | undefined): string | undefined {
  if (w.startsWith('<')) return undefined;
  const m = /^if(\d+)$/.exec(w);
  if (m === null) return w;
  const index = Number(m[1]);
  return h?.addrs?.find((x) => x.ifindex === index)?.dev ?? h?.links?.find((x) => x.ifindex === index)?.dev ?? undefined;
}

export function issuesOf(f: Facts): Issue[] {
  let out = cache.get(f);
  if (out !== undefined) return out;
  const e = evidenceOf(f);
  if (e === null || f.T === null) out = [];
  else {
    const b4 = f.L('B4');
    const bSrc = b4 !== undefined ? b4.r.p.src : undefined;
    const b5Src = f.L('B5')?.r.p.src, a0Src = f.L('A0')?.r.p.src;
    const a1If = f.L('A1')?.r.p.iface;
    const b1 = f.L('B1')?.r.p;
    const bCarrier = b1?.src !== undefined && b1.dst !== undefined && b1.sport !== undefined && b1.dport !== undefined ? { src: b1.src, dst: b1.dst, sport: b1.sport, dport: b1.dport } : undefined;
    // Without a tunnel word for A (IPsec with a route-based device), the interface A1 was captured on.
    const tunA = word(f.ifw.tunA, e.A) ?? (a1If !== undefined && a1If !== '' ? word(a1If, e.A) : undefined), tunB = word(f.ifw.tunB, e.B), lanB = word(f.ifw.lanB, e.B);
    // Behind B after its NAT: the forward hook sees the DNAT'd destination (the source is B4's).
    const lan = f.lanTuple;
    out = runChecks(e.A, e.B, f.T, {
      tunnel: f.kind === 'wireguard' || f.kind === 'ipsec' ? f.kind : 'unknown',
      ...(bSrc !== undefined ? { bSrc } : {}), ...(lan !== null && lan.dst !== '' ? { bDst: lan.dst, ...(lan.dport !== undefined ? { bDport: lan.dport } : {}) } : {}), ...(tunA !== undefined ? { tunA } : {}), ...(tunB !== undefined ? { tunB } : {}), ...(lanB !== undefined ? { lanB } : {}),
      ...(b5Src !== undefined ? { b5Src } : {}), ...(a0Src !== undefined ? { a0Src } : {}), firstMissing: f.firstMissing, ...(bCarrier !== undefined ? { bCarrier } : {}),
    });
  }
  cache.set(f, out);
  return out;
}

export function findingsFor(f: Facts, id: IssueId): Finding[] {
  return issuesOf(f).filter((x) => x.id === id).map((x) => toFinding(f, x));
}

function toFinding(f: Facts, x: Issue): Finding {
  const cause = f.firstMissing !== null && x.explains.includes(f.firstMissing);
  // The packets that frame the break: the last checkpoint seen before the first missing one.
  const evidence: Finding['evidence'] = [];
  if (cause) {
    const at = PATH_ORDER.indexOf(f.firstMissing!);
    for (let i = at - 1; i >= 0; i--) {
      const seen = f.L(PATH_ORDER[i]!);
      if (seen !== undefined) { evidence.push(ev(seen.side, seen.r)); break; }
    }
  }
  const agree = cause
    ? ` The captures agree: ${f.firstMissing} is the first checkpoint missing.`
    : f.firstMissing === null ? ' The captures do not show this failing; the evidence may be from another moment or another path.' : '';
  return {
    rule: x.id, severity: cause ? 'error' : 'warning', checkpoint: cause ? f.firstMissing : x.explains[0] ?? null,
    host: x.host, class: x.class, title: x.title, detail: x.detail + agree, evidence, next_steps: x.next_steps,
    host_evidence: x.quotes,
  };
}
