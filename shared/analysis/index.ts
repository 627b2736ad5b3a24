// Two-host analysis engine (pure, deterministic, no I/O): analyze(A, B) lines up the two
// captures, labels checkpoints A1–A6 / B1–B8, follows each packet of the traced flow hop by hop
// and returns findings plus one verdict, in the JSON shape `tandem analyze --json` prints.
export { analyze, transformBetween } from './analyze.ts';
export { parseFlowSpec } from './flow-spec.ts';
export { fitClock, fitClockColumns } from './clock.ts';
export type { ClockPair, ClockFit, ClockColumns } from './clock.ts';
export * from './types.ts';
// The diagnosis rule registry (see RULES.md) and the facts a rule reads.
export { registerRule, ruleList, ruleById, type Rule } from './rules/index.ts';
export type { Facts } from './facts.ts';
export { registerTunnel, tunnelModules, type TunnelModule } from './tunnels/index.ts';
