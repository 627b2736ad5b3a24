// Two-host analysis engine: public entry points and types.
export { analyze } from './analyze.ts';
export { parseFlowSpec } from './flow-spec.ts';
export { fitClock } from './clock.ts';
export type { ClockPair, ClockFit } from './clock.ts';
export * from './types.ts';
