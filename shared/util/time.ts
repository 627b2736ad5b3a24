// Timestamps are kept as whole seconds + nanoseconds: a double cannot hold epoch nanoseconds exactly.

/** ISO 8601 UTC with nine fractional digits, e.g. 2024-05-01T19:47:20.751416000Z. */
export function isoNs(tsSec: number, tsNsec: number): string {
  const d = new Date(tsSec * 1000);
  const base = Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 19) : '1970-01-01T00:00:00';
  return `${base}.${String(tsNsec).padStart(9, '0')}Z`;
}

/** HH:MM:SS.nnnnnnnnn (UTC), as packet lists show it. */
export function clockNs(tsSec: number, tsNsec: number): string {
  const s = ((tsSec % 86400) + 86400) % 86400;
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}.${String(tsNsec).padStart(9, '0')}`;
}

/** Seconds as a double relative to a base second: exact enough (sub-ns) for spans of days. */
export function relSeconds(tsSec: number, tsNsec: number, baseSec: number): number {
  return tsSec - baseSec + tsNsec / 1e9;
}
