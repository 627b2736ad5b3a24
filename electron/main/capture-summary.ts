// What a window is told about a capture, built the same way for local and far-end captures.
import type { CaptureSummary, LiveInterface } from '../capture/session.ts';
import type { CaptureEndSummary, LiveInterfaceInfo } from '../../shared/ipc/contract.ts';

/** Interfaces as the window gets them (local and far-end captures alike). */
export function toInterfaces(list: readonly LiveInterface[]): LiveInterfaceInfo[] {
  return list.map((i) => ({ id: i.id, name: i.name, linktype: i.linktype, snaplen: i.snaplen }));
}

/** A capture's end as the window gets it (local and far-end captures alike). */
export function toSummary(s: CaptureSummary): CaptureEndSummary {
  const out: CaptureEndSummary = {
    reason: s.reason,
    spoolPath: s.spoolPath,
    spoolBytes: s.spoolBytes,
    packets: s.packets,
    bytes: s.bytes,
    drops: s.drops,
    elapsedMs: s.elapsedMs,
    warnings: [...s.warnings],
  };
  if (s.ifDrops !== undefined) out.ifDrops = s.ifDrops;
  if (s.error) out.error = s.error;
  return out;
}
