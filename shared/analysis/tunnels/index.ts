// The tunnel modules, in the order they are tried. Add a kind here (one line) after writing its file.

import type { AnalysisResult, CaptureInput } from '../types.ts';
import type { OuterKind, Side } from '../prepare.ts';
import type { TunnelModule } from './types.ts';
import { wireguard } from './wireguard.ts';
import { ipsec } from './ipsec.ts';

export type { TunnelModule, TunnelKind, SayCtx, Said } from './types.ts';

const MODULES: TunnelModule[] = [];

/** Registers a tunnel module (later registrations are tried later). */
export function registerTunnel(m: TunnelModule): void {
  if (!MODULES.some((x) => x.kind === m.kind)) MODULES.push(m);
}
registerTunnel(wireguard);
registerTunnel(ipsec);

export function tunnelModules(): readonly TunnelModule[] { return MODULES; }

export function tunnelByKind(kind: string): TunnelModule | undefined { return MODULES.find((m) => m.kind === kind); }

const byOuter = new Map<OuterKind, TunnelModule>();
/** The module a carrier kind belongs to. */
export function moduleOfOuter(o: OuterKind): TunnelModule | undefined {
  let m = byOuter.get(o);
  if (m === undefined) { m = MODULES.find((x) => x.outers.includes(o)); if (m !== undefined) byOuter.set(o, m); }
  return m;
}

/** The module whose wording applies when nothing in the captures names a kind (the first registered). */
export function defaultTunnel(): TunnelModule { return MODULES[0]!; }

/**
 * The tunnel kind of an analysis: the module whose carriers the captures hold (a negotiation or
 * ESP outranks UDP that merely looks like another kind), else the one whose device names the
 * captures show. Null: no sign of any kind.
 */
export function recogniseTunnel(A: Side, B: Side): TunnelModule | null {
  const has = (o: OuterKind): boolean => A.outerKinds.has(o) || B.outerKinds.has(o);
  // Most specific first: a kind with several carrier kinds (IKE + ESP) is never mistaken for plain UDP.
  const ordered = [...MODULES].sort((x, y) => y.outers.length - x.outers.length);
  for (const m of ordered) if (m.outers.some(has)) return m;
  for (const m of ordered) {
    for (const s of [A, B]) for (const f of s.ifaces.values()) if (f.kind === 'tunnel' && m.ifaceHint.test(f.name)) return m;
  }
  return null;
}

/** The module's post-pass over the result, when it has one. */
export function refineByTunnel(result: AnalysisResult, a: CaptureInput, b: CaptureInput): AnalysisResult {
  const m = tunnelByKind(result.variant.tunnel);
  return m?.refine !== undefined ? m.refine(result, a, b) : result;
}
