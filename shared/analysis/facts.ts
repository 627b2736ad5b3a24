// What the diagnosis rules read: the engine's prepared state (both sides as columnar records, the
// traced flow, the labels) plus what diagnose() derives once for every rule (the tunnel module,
// the checkpoints a healthy run would show, the first missing one, interface words for commands).
// Rules read these facts; they never walk packets per rule when a fact can say it.

import type { Rec, Side } from './prepare.ts';
import type { InnerList, Tuple } from './inner.ts';
import type { CarrierPairs } from './carriers.ts';
import type {
  AnalysisResult, AnalyzeOptions, CaptureKey, CheckpointLabel, ClockEstimate, HopStage, Role,
} from './types.ts';
import type { SayCtx, TunnelModule } from './tunnels/types.ts';
import { proseCode } from '../util/shell.ts';

export type Chain = Array<{ side: Side; r: Rec; stage: HopStage; carrier: boolean }>;

/** The engine's state after labelling: built by analyze(), read by diagnose(). */
export interface EngineFacts {
  A: Side; B: Side;
  /** The flow under test as A sends it (null: none found). */
  T: Tuple | null;
  /** The flow's tuple behind B (after B's NAT), when B forwards it. */
  lanTuple: Tuple | null;
  fA: InnerList; fB: InnerList; fB2: InnerList;
  labels: Map<CheckpointLabel, { side: Side; r: Rec }>;
  cp: CarrierPairs;
  clock: ClockEstimate;
  tol: number;
  p2p: boolean;
  hub: boolean;
  aTunOut: InnerList; aTunIn: InnerList; bTunIn: InnerList; bTunOut: InnerList; bLanOut: InnerList; bLanIn: InnerList;
  reqChains: Chain[]; repChains: Chain[];
  flowFrom: CaptureKey | null;
  roles: { A: Role; B: Role };
  /** The caller's options, host evidence included when given (AnalyzeOptions is the place to extend). */
  options?: AnalyzeOptions;
  /**
   * Flow position in `fA` of A's first request off the tunnel interface, -1 when none (found while
   * the flow was split by interface); when absent, diagnose() searches `fA` itself.
   */
  offTunnelA?: number;
}

/** Interface names fit for a suggested command (placeholders where the capture's name fails the kernel's rules). */
export interface IfaceWords {
  tunA: string; tunB: string; wanA: string; wanB: string; lanB: string;
}

/** Everything a rule may read. Extend with optional fields; never rename. */
export interface Facts extends EngineFacts {
  tunnel: TunnelModule;
  /** The tunnel kind recognised from the carriers ('unknown': none seen; `tunnel` then is the default module). */
  kind: AnalysisResult['variant']['tunnel'];
  variant: AnalysisResult['variant'];
  /** Checkpoint (first sighting) by label. */
  L(l: CheckpointLabel): { side: Side; r: Rec } | undefined;
  /** Labels a healthy run would show in these captures (interfaces not captured, p2p, recent handshake removed). */
  expected: Set<CheckpointLabel>;
  /** First expected label, in path order, that was not seen. */
  firstMissing: CheckpointLabel | null;
  /** Interfaces whose absence removed labels ("A's tunnel interface"). */
  notCaptured: string[];
  /** Destination of the flow as "addr:port" (or "?"), ready for prose (`proseData`): not for matching. */
  dst: string;
  /** Interface words for commands; `oddNames` holds a sentence for each name that had to be replaced. */
  ifw: IfaceWords;
  oddNames: string[];
  /** B's own carrier endpoint ("addr:port"): where it receives, or what it sends from. */
  bListen: string | null;
  /** The first inner packet to the destination that left A on a non-tunnel interface. */
  misroutedA1: { side: Side; r: Rec } | undefined;
  /** The module wording's inputs (interface words, addresses, counts). */
  say: SayCtx;
  /** WireGuard-style handshake records on each side (initiations out/in, responses in/out); empty for other kinds. */
  inits: Rec[]; resps: Rec[]; bInits: Rec[]; bResps: Rec[];
  /** Host evidence (shared/evidence), when the caller gave some: the same as `options.evidence`. */
  evidence?: AnalyzeOptions['evidence'];
}

export const ev = (side: Side, r: Rec): { capture: CaptureKey; frame: number } => ({ capture: side.key, frame: r.p.frame });

/** "addr:port" of a packet's source (or the address alone). */
export function ep(p: { src?: string; sport?: number }): string {
  return p.sport !== undefined ? `${p.src}:${p.sport}` : `${p.src ?? '?'}`;
}
/** "addr:port" of a packet's destination (or the address alone). */
export function epd(p: { dst?: string; dport?: number }): string {
  return p.dport !== undefined ? `${p.dst}:${p.dport}` : `${p.dst ?? '?'}`;
}

/**
 * A command as a code span in engine prose (`proseCode`, shared/util/shell.ts). Build the command with
 * `cmd`; a capture value outside a command goes through `proseData` instead.
 */
export const code = proseCode;
