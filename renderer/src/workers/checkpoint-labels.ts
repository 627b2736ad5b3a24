// Checkpoint labels for the display filter's `checkpoint` field, kept in the session worker between
// filters. Reading the stored analysis is a structured clone of the whole result (25-45 ms on the
// bulk pair), while only its checkpoint list is needed: it is read again only when the record changed.
//
// Staleness: every write of an analysis record stamps a new `updatedAt` (session.worker.ts
// runAnalysis is the only writer; deleteSession removes the record). `updatedAt` is indexed, so
// whether this session's record still carries the stamp the labels were built from is a keys-only
// index read, which sees writes from any thread or window.

import type { HostSide } from '../db/schema.ts';

export interface LabelCtx {
  checkpoint: string;
}

/** The part of a stored analysis record the labels come from. */
export interface LabelSource {
  updatedAt: number;
  result?: { checkpoints: ReadonlyArray<{ capture: HostSide; frame: number; label: string }> };
}

export interface LabelStore {
  /** The session's stored analysis, or undefined when none is stored. */
  read(sessionId: number): Promise<LabelSource | undefined>;
  /** The sessions whose stored analysis carries exactly this `updatedAt` (an index read). */
  stamped(updatedAt: number): Promise<number[]>;
}

export interface CheckpointLabels {
  /** `updatedAt` of the analysis the labels come from; undefined when none is stored. */
  at: number | undefined;
  /** Label contexts by frame number, per host. */
  ctxs: Record<HostSide, Map<number, LabelCtx>>;
}

function labelsOf(rec: LabelSource | undefined): CheckpointLabels {
  const ctxs: Record<HostSide, Map<number, LabelCtx>> = { A: new Map(), B: new Map() };
  for (const c of rec?.result?.checkpoints ?? []) ctxs[c.capture].set(c.frame, { checkpoint: c.label });
  return { at: rec?.updatedAt, ctxs };
}

/** Labels of the session's stored analysis, read again only when the stored record is not the one they came from. */
export function checkpointLabelCache(store: LabelStore): { get(sessionId: number): Promise<CheckpointLabels>; drop(): void } {
  let kept: { sessionId: number; labels: CheckpointLabels } | null = null;
  return {
    async get(sessionId) {
      const k = kept;
      // No stored analysis is not kept: one may be written at any time, and reading none is cheap.
      if (k && k.sessionId === sessionId && k.labels.at !== undefined && (await store.stamped(k.labels.at)).includes(sessionId)) return k.labels;
      const labels = labelsOf(await store.read(sessionId));
      kept = { sessionId, labels };
      return labels;
    },
    drop() {
      kept = null;
    },
  };
}
