// The step list of a running test: one row per step of the engine, in its order, each with the state
// of every host that reported it. Pure (no React, no storage), so it is tested under Node.

import { PROBE_STEP_NAMES, type ProbeProgressInfo, type ProbeStepName } from '../../../../shared/ipc/contract.ts';
import type { HostSide } from '../../db/schema.ts';

export type StepState = 'pending' | ProbeProgressInfo['state'];

export interface StepRow {
  step: ProbeStepName;
  /** The step as a whole: failed if any host failed, running while any runs, then done, skipped. */
  state: StepState;
  /** Per host, for the steps that run on hosts. */
  hosts: Partial<Record<HostSide, { state: StepState; detail?: string }>>;
  /** The newest line about the step (a host's, or the step's own). */
  detail?: string;
}

export function emptySteps(): StepRow[] {
  return PROBE_STEP_NAMES.map((step) => ({ step, state: 'pending', hosts: {} }));
}

const RANK: Record<StepState, number> = { pending: 0, skipped: 1, done: 2, running: 3, failed: 4 };

/** The row after one progress report: the host's own state, and the step's as the worst of its hosts. */
export function applyProgress(rows: readonly StepRow[], p: ProbeProgressInfo): StepRow[] {
  return rows.map((r) => {
    if (r.step !== p.step) return r;
    const hosts = { ...r.hosts };
    if (p.host) hosts[p.host] = { state: p.state, ...(p.detail ? { detail: p.detail } : {}) };
    const states = Object.values(hosts).map((h) => h.state);
    // A step-wide report (no host) sets the step; host reports combine by rank, so one host done while
    // the other runs is running, a failure anywhere is failed, and skipped shows only when all skipped.
    const state: StepState = p.host ? states.reduce<StepState>((w, s) => (RANK[s] > RANK[w] ? s : w), 'pending') : p.state;
    const row: StepRow = { step: r.step, state, hosts };
    const detail = p.detail ?? r.detail;
    if (detail) row.detail = detail;
    return row;
  });
}

