// Host evidence of a session: per host, the command outputs the user pasted or imported (and the
// files "Run a test" collected), kept on the session's settings row. Adding or removing one changes
// the analysis key (evidenceInputs), so the stored analysis goes stale and runs again with it.

import { evidenceSizeError } from '../../../shared/evidence/collect.ts';
import { visible } from '../../../shared/util/shell.ts';
import { readEvidenceInWorker } from '../features/evidence/evidence-client.ts';
import type { EvidenceAnswer } from '../features/evidence/evidence-messages.ts';
import type { EvidenceRecord, HostSide, SessionSettingsRecord, TandemDb } from './schema.ts';

export type { EvidenceRecord } from './schema.ts';

/** A text that is not stored: over the size limit, empty, or no command Tandem reads printed it. The message is one line. */
export class EvidenceRefused extends Error {}

/** Recognises and parses a text; the default does it in the evidence worker (never on the UI thread). */
export type EvidenceReader = (name: string, text: string) => Promise<EvidenceAnswer>;

let counter = 0;
function newId(): string {
  // Time plus a per-window counter and a random tail: unique across windows and across remove-then-add.
  counter = (counter + 1) % 1296;
  return `${Date.now().toString(36)}${counter.toString(36).padStart(2, '0')}${Math.floor(Math.random() * 46656).toString(36).padStart(3, '0')}`;
}

/**
 * Reads `text` (recognised by content) and stores it for `host` of the session, without the keys a
 * `wg show all dump` or `ip xfrm state` prints, after the host's other items (order matters for
 * counters: a second reading is the "after" one unless the names say "before"/"after"). Throws
 * EvidenceRefused, with one line naming the item, when it is not stored.
 */
export async function addEvidenceText(
  db: TandemDb, sessionId: number, host: HostSide, name: string, text: string, read: EvidenceReader = readEvidenceInWorker,
): Promise<EvidenceRecord> {
  const r = await addEvidenceTexts(db, sessionId, host, [{ name, text }], read);
  if (r.refused.length > 0) throw new EvidenceRefused(r.refused[0]!);
  return r.stored[0]!;
}

/**
 * Several texts at once, in the order given, stored in one write: the analysis runs once for all of
 * them, not once per item. Texts that are refused are listed (one line each), the others stored;
 * `interfaceNames` holds the refused ones that are `ip -o link` output (names for the capture).
 */
export async function addEvidenceTexts(
  db: TandemDb, sessionId: number, host: HostSide, items: ReadonlyArray<{ name: string; text: string }>, read: EvidenceReader = readEvidenceInWorker,
): Promise<{ stored: EvidenceRecord[]; refused: string[]; interfaceNames: Array<{ name: string; text: string }> }> {
  const stored: EvidenceRecord[] = [];
  const refused: string[] = [];
  const interfaceNames: Array<{ name: string; text: string }> = [];
  for (const { name, text } of items) {
    const label = name.trim() || 'pasted text';
    const big = evidenceSizeError(visible(label), text.length);
    if (big !== null) { refused.push(big); continue; }
    if (text.trim() === '') { refused.push(`${visible(label)}: empty, nothing to read`); continue; }
    const r = await read(label, text);
    if (r.format === null) {
      refused.push(visible(r.error ?? `${label}: not the output of a command Tandem reads`));
      if (r.interfaceNames === true) interfaceNames.push({ name: label, text });
      continue;
    }
    stored.push({
      id: newId(), name: label, text: r.text ?? text, addedAt: Date.now(), format: r.format, problems: r.problems,
      ...(r.problemCount > r.problems.length ? { problemCount: r.problemCount } : {}),
      ...(r.secretsRemoved !== undefined && r.secretsRemoved > 0 ? { secretsRemoved: r.secretsRemoved } : {}),
    });
  }
  if (stored.length === 0) return { stored, refused, interfaceNames };
  // Read-modify-write in one transaction: adds from two places at once (the dialog, a probe) must both land.
  await db.transaction('rw', db.settings, async () => {
    const cur: SessionSettingsRecord = (await db.settings.get(sessionId)) ?? { sessionId, options: {} };
    await db.settings.put({ ...cur, evidence: { ...cur.evidence, [host]: [...(cur.evidence?.[host] ?? []), ...stored] } });
  });
  await db.sessions.update(sessionId, { updatedAt: Date.now() });
  return { stored, refused, interfaceNames };
}

/** Removes one item; nothing happens when it is already gone. */
export async function removeEvidence(db: TandemDb, sessionId: number, host: HostSide, id: string): Promise<void> {
  await db.transaction('rw', db.settings, async () => {
    const cur = await db.settings.get(sessionId);
    const list = cur?.evidence?.[host];
    if (!cur || !list?.some((e) => e.id === id)) return;
    await db.settings.put({ ...cur, evidence: { ...cur.evidence, [host]: list.filter((e) => e.id !== id) } });
  });
}

/** Both hosts' items, in the order added. */
export async function listEvidence(db: TandemDb, sessionId: number): Promise<{ A: EvidenceRecord[]; B: EvidenceRecord[] }> {
  const ev = (await db.settings.get(sessionId))?.evidence;
  return { A: ev?.A ?? [], B: ev?.B ?? [] };
}

/**
 * The part of the analysis key that the evidence contributes: the items' ids per host, in order.
 * Empty without evidence, so sessions that never had any keep their stored analysis.
 */
export function evidenceInputs(evidence: SessionSettingsRecord['evidence']): string {
  const A = evidence?.A?.map((e) => e.id) ?? [];
  const B = evidence?.B?.map((e) => e.id) ?? [];
  return A.length === 0 && B.length === 0 ? '' : `|evidence:${JSON.stringify({ A, B })}`;
}
