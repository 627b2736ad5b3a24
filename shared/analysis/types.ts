// Public types of the two-host analysis engine. The JSON shape is a contract shared with the
// CLI (`tandem analyze --json`), the UI and the reports: extend it, never rename or drop fields.

import type { PacketList } from '../protocols/packet.ts';
import type { PreparedCapture } from './prepare.ts';
import type { HostEvidence } from '../evidence/types.ts';

export interface CaptureInput {
  /** Display name ("endpoint-a.pcapng"). */
  name: string;
  file?: string;
  /** In file order; packet.frame is the 1-based position in that file. */
  packets: PacketList;
  /**
   * The capture's interface list (pcapng IDBs), when known: an interface that was captured but
   * shows no packet is evidence that nothing passed there, not that it was not captured.
   */
  interfaces?: Array<{ name: string; linktype: number }>;
  /**
   * The capture host's interface names from its `ip -o link` listing, when given (SLL2 `-i any`
   * files): like `interfaces`, a listed device with no packet exists and carried nothing, and a
   * device missing from the list does not exist on that host (e.g. no tunnel device: the tunnel is down).
   */
  links?: string[];
  /**
   * This capture already prepared for the analysis (by a load worker, beside the other capture's):
   * used when the two were made for each other, else the analysis prepares both itself.
   */
  prepared?: PreparedCapture;
}

export interface AnalyzeOptions {
  /** Flow under test, e.g. "tcp 192.168.200.22:80" or "tcp 10.0.0.1:45734 > 192.168.200.22:80". */
  flow?: string;
  /** Known clock difference of B relative to A (B = A + offset + skew·(t − t_ref)); skips estimation. */
  clockOverride?: { offset_s: number; skew_ppm?: number };
  /** Most logical packets listed in `lineage` (default 200); `lineage_total` says how many exist. */
  maxLineage?: number;
  /**
   * Keep the order given (first capture = initiating host A) even when the packets say otherwise;
   * by default the roles come from the data and a swap is reported (`captures.X.role_swapped`).
   */
  keepGivenRoles?: boolean;
  /**
   * Host evidence per host (shared/evidence: `wg show all dump`, routes, rules, firewall with
   * counters, sysctl, swanctl/xfrm, IKE logs), keyed as the captures are given; swapped with them.
   */
  evidence?: { A?: HostEvidence; B?: HostEvidence };
}

export interface FlowSpec {
  proto: 'tcp' | 'udp' | 'icmp' | 'any';
  src?: string;
  sport?: number;
  dst: string;
  dport?: number;
}

export type CaptureKey = 'A' | 'B';
export type IfaceKind = 'tunnel' | 'wan' | 'lan';
export type Role = 'initiator' | 'responder' | 'unknown';
export type FailureClass =
  | 'routing' | 'firewall' | 'firewall-or-routing' | 'wireguard-config' | 'wireguard-config-or-firewall'
  | 'ipsec-config' | 'nat' | 'mtu' | 'asymmetric-routing' | 'none';
export type FixHost = 'A' | 'B' | 'path' | 'siteA' | 'siteB';
export type Severity = 'error' | 'warning' | 'info';

export const CHECKPOINT_LABELS = [
  'A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8',
] as const;
/** A0/A7: IPsec site-to-site gateway A's LAN side (shared/analysis/README-ipsec.md); only set by ipsec.ts. */
export type CheckpointLabel = (typeof CHECKPOINT_LABELS)[number] | 'A0' | 'A7';

/** The order in which a healthy test connection passes the checkpoints (request, handshake, reply). */
export const PATH_ORDER: readonly CheckpointLabel[] = [
  'A1', 'A2', 'B1', 'B2', 'A3', 'A4', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'A5', 'A6',
];

export interface CaptureSummary {
  file: string | null;
  name: string;
  packets: number;
  role: Role;
  interfaces: Array<{ name: string; kind: IfaceKind }>;
  /** True when the data showed this capture was given in the other host's place and the roles were swapped for the analysis. */
  role_swapped?: boolean;
}

export interface ClockEstimate {
  /** B's clock minus A's clock at `ref_s`, seconds. */
  offset_s: number;
  skew_ppm: number;
  /** Half-width of the band of offsets allowed by the matched pairs; Infinity (null in JSON) when only one direction bounds it. */
  uncertainty_s: number;
  /** Matched cross-host packet pairs used. */
  pairs: number;
  /** Reference instant (A's clock, Unix seconds) at which offset_s holds. */
  ref_s: number;
  method: 'envelope' | 'one-way' | 'override' | 'none';
  pairs_a_to_b: number;
  pairs_b_to_a: number;
  /**
   * False when the matched pairs span too little time (or are too few) to show the clocks' drift:
   * skew_ppm is then 0 by assumption and the uncertainty grows with distance from the pairs.
   */
  skew_observable?: boolean;
  /** The stretch of A's clock the pairs cover, seconds since ref_s. */
  pairs_from_s?: number;
  pairs_to_s?: number;
  /** Growth of the uncertainty outside that stretch, seconds per second (an assumed ±50 ppm when the skew is unobservable). */
  drift_per_s?: number;
  /** The uncertainty at the packet farthest from the pairs (either capture); Infinity (null) when unknown. */
  uncertainty_max_s?: number;
}

export interface FlowInfo {
  proto: string;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
}

export interface Checkpoint {
  label: CheckpointLabel;
  capture: CaptureKey;
  frame: number;
  iface: string;
  dir: 'in' | 'out' | null;
  /** Seconds since the start of capture A, on A's clock (B corrected). */
  t_s: number;
}

export type HopStage =
  | 'tunnel-out' | 'encrypted-out' | 'encrypted-in' | 'decrypted-in' | 'forwarded-out'
  | 'reply-in' | 'reply-tunnel-out' | 'encrypted-reply-out' | 'encrypted-reply-in' | 'decrypted-reply-in';

export interface Hop {
  capture: CaptureKey;
  frame: number;
  checkpoint: CheckpointLabel | null;
  stage: HopStage;
  iface: string;
  /** What changed against the previous hop ("SNAT 10.0.0.1:45734 → 192.168.200.2:45734; TTL 64 → 63"), or null. */
  transform: string | null;
  /** Time since the previous hop after clock correction; null for the first hop. */
  latency_s: number | null;
}

export interface Lineage {
  direction: 'request' | 'reply';
  summary: string;
  hops: Hop[];
  /** Where this packet was last seen when it did not reach its last expected hop. */
  lost_after?: HopStage;
}

export interface Finding {
  severity: Severity;
  checkpoint: CheckpointLabel | null;
  host: FixHost;
  class: FailureClass;
  title: string;
  detail?: string;
  evidence: Array<{ capture: CaptureKey; frame: number }>;
  next_steps: string[];
  /** Id of the diagnosis rule that produced the finding (shared/analysis/RULES.md). */
  rule?: string;
  /**
   * Host evidence that backs the finding, quoted as the host printed it: a firewall rule with its
   * handle, a route line, a peer and prefix, a log line. Text from a host: escape before display.
   */
  host_evidence?: Array<{ host: CaptureKey; source: string; text: string }>;
}

export interface Verdict {
  status: 'ok' | 'fail' | 'inconclusive';
  first_missing: CheckpointLabel | null;
  class: FailureClass;
  host: FixHost | null;
  summary: string;
}

export interface AnalysisResult {
  captures: { A: CaptureSummary; B: CaptureSummary };
  clock: ClockEstimate;
  flow: FlowInfo | null;
  checkpoints: Checkpoint[];
  lineage: Lineage[];
  lineage_total: number;
  findings: Finding[];
  verdict: Verdict;
  /** Topology variant recognised for the traced flow. */
  variant: { handshake: 'seen' | 'recent' | 'missing'; path: 'forwarded' | 'point-to-point' | 'hub-and-spoke' | 'unknown'; tunnel: 'wireguard' | 'ipsec' | 'unknown' };
}
