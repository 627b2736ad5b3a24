// Messages to and from the evidence worker, which recognises and parses one pasted text or file
// (the UI thread only stores what it answers).
import type { EvidenceReading } from '../../../../shared/evidence/collect.ts';

export interface EvidenceRequest {
  id: number;
  name: string;
  text: string;
}

/**
 * `interfaceNames`: a text no evidence parser knows that is `ip -o link` output (names for the
 * capture instead). `text`: the text to keep when secrets (private keys …) were taken out of it.
 */
export type EvidenceAnswer = EvidenceReading & { interfaceNames?: boolean; text?: string; secretsRemoved?: number };

export type EvidenceReply = { id: number; reading: EvidenceAnswer } | { id: number; error: string };
