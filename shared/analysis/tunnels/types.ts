// A tunnel kind as a module: how its carriers are recognised, what its labels mean, its wording
// and its commands. The engine and the generic rules ask the module; only a module (and the rules
// that apply to its kind alone) name the tunnel's protocol or tools. A new kind (OpenVPN, GRE/IPIP)
// is a new file registered in tunnels/index.ts, not a branch elsewhere.

import type { Packet, PacketRows, TunnelIds } from '../../protocols/packet.ts';
import type { AnalysisResult, CaptureInput, FailureClass } from '../types.ts';
import type { OuterKind, Rec, Side } from '../prepare.ts';

export type TunnelKind = 'wireguard' | 'ipsec';

/** A sentence group for one finding: the module's wording where a generic rule needs the tunnel's terms. */
export interface Said {
  title: string;
  detail?: string;
  next_steps: string[];
  class?: FailureClass;
}

/** Words the generic rules put into titles (no commands here). */
export interface TunnelWords {
  /** "handshake initiation" / "IKE request". */
  init: string;
  /** "handshake response" / "IKE response". */
  response: string;
  /** "handshake" / "IKE exchange". */
  handshake: string;
  /** How the module names the peer's inner-address filter ("allowed IPs" / "traffic selectors"). */
  policy: string;
}

/**
 * Inputs to the module's wording. Interface words are shell words already (a checked name,
 * quoted, or a placeholder such as "<B's LAN interface>"): put them into commands as they are.
 * Addresses and endpoints are capture text: quote them (`cmd`, `shellQuote`) inside commands.
 */
export interface SayCtx {
  tunA: string; tunB: string; wanA: string; wanB: string; lanB: string;
  /**
   * Flow destination address ("?" when unknown) and A's tunnel (inner source) address. These and
   * `bListen`/`target` are already `proseData` (shared/util/shell.ts); the interface words are shell words.
   */
  dstAddr: string; aTunAddr: string;
  /** B's carrier endpoint "addr:port" when seen. */
  bListen: string | null;
  /** A's first initiation target "addr:port" when seen. */
  target: string | null;
  /** Initiations A sent / responses A received (handshake repetition wording). */
  inits: number; resps: number;
}

export interface TunnelModule {
  kind: TunnelKind;
  /** Display name ("WireGuard"). */
  name: string;
  /** Carrier kinds (prepare.ts OuterKind) that belong to this tunnel. */
  outers: readonly OuterKind[];
  /**
   * Whether `p` is one of this kind's carriers; if so fills `out` (carrier kind, message type,
   * payload length). `udpLikeWg`: the packet's UDP conversation has WireGuard's framing (sizes).
   * A packet claimed without `udpLikeWg` must be claimed the same way with it (it may only add
   * carriers): the preparation asks every packet without it first and asks again, with it, only
   * those the first module did not claim.
   */
  carrier(p: Packet, udpLikeWg: boolean, out: CarrierScratch): boolean;
  /**
   * `carrier` for a column row (row x of a PacketRows chunk, a packet its list keeps as numbers) from
   * the row's numbers: 1 when it is one of this kind's carriers (`out` filled as `carrier` fills it), 0
   * when it is not, -1 when the numbers leave it open (`carrier` is then asked with the packet). The
   * answer must be `carrier`'s for the same packet. Optional: without it every row is asked as a
   * packet (right, but a packet built per row of a bulk capture).
   */
  carrierRow?(rows: PacketRows, x: number, udpLikeWg: boolean, out: CarrierScratch): number;
  /** Interface names that are this tunnel's devices (a hint when no carrier was captured). */
  ifaceHint: RegExp;
  /**
   * Identity of one carrier datagram that survives NAT, for pairing across the hosts: its group
   * (a number for bulk data, so no string is built per packet) with its ordinal within the group
   * left in `ord.n`; null when the packet is not this kind's or carries no identifiers.
   */
  carrierKey(p: Packet, olen: number, ord: { n: number }): number | string | null;
  /**
   * `carrierKey` from a packet's tunnel numbers (PacketList.tunnelIdsAt: a packet its list keeps as
   * numbers, so without IKE, NAT-T keepalives or tunnel layers): the same group and ordinal, or
   * undefined when the numbers leave it open (`carrierKey` is then asked with the packet). Optional:
   * without it every carrier is asked as a packet (right, but a packet built per bulk datagram).
   */
  carrierKeyIds?(ids: TunnelIds, olen: number, ord: { n: number }): number | string | null | undefined;
  /**
   * Whether a carrier of payload length `olen` can hold an inner packet of `innerLen` bytes (this kind's
   * framing). Never true unless `olen > innerLen` (a carrier is longer than what it holds): carriers.ts
   * relies on that to skip searches no carrier could answer.
   */
  innerFits(olen: number, innerLen: number): boolean;
  /** Device name to show in commands when the captures name no tunnel interface. */
  defaultDevice: string;
  /** Encrypted session data seen (A sending or B receiving): the negotiation may predate the capture. */
  sessionSeen(A: Side, B: Side): boolean;
  /** Handshake records by role (initiations A sent / B received, responses A received / B sent); empty when the kind has no such pairs. */
  handshakes(A: Side, B: Side): { inits: Rec[]; resps: Rec[]; bInits: Rec[]; bResps: Rec[] };
  /** Class of a configuration fault of the tunnel itself. */
  configClass: FailureClass;
  words: TunnelWords;
  /** Command that shows the tunnel's state on a host (markdown code span included). */
  show(iface: string): string;
  say: {
    /** A1 missing or misrouted: what routes traffic into the tunnel on A. */
    routeSteps(c: SayCtx): string[];
    /** A2 missing: A never starts the negotiation. */
    noStart(c: SayCtx, otherCarrierOut: boolean): Said;
    /** B1 missing because A sends to the wrong place. */
    wrongEndpoint(c: SayCtx): Said;
    /** B1 present, B2 missing: B gets the initiation and does not answer. */
    noAnswer(c: SayCtx): Said;
    /** A3 present, A4 missing: A never sends data after the negotiation. */
    noDataAfterHandshake(c: SayCtx): Said;
    /** B3 present, B4 missing: B decrypts nothing for A's inner address. */
    noDecrypt(c: SayCtx): Said;
    /** B7 present, B8 missing. */
    noEncryptReply(c: SayCtx): Said;
    /** A5 present, A6 missing. */
    noDecryptReply(c: SayCtx): Said;
    /** No negotiation in the capture: the session predates it. */
    recent(c: SayCtx): Said;
    /** Next step when the carriers are NATed on the way (info). */
    natStep(): string;
    /** Next step to lower the tunnel MTU. */
    mtuStep(c: SayCtx): string;
  };
  /**
   * Words and commands that belong to this tunnel only: none may appear in another tunnel's
   * result (tested over every capture the tests can load).
   */
  vocabulary: RegExp;
  /** Post-pass over the result for what only this tunnel kind shows (gateway labels, …). */
  refine?(result: AnalysisResult, a: CaptureInput, b: CaptureInput): AnalysisResult;
}

/** What a module says about one carrier packet (a scratch record reused for every packet). */
export interface CarrierScratch { outer: OuterKind | null; wgType: number; olen: number }
