// The one-line report of text lines the tcpdump text reader could not use, for terminals and logs.
// The examples are text from a paste (hostile): every control character is made visible.

import { visible } from '../../util/shell.ts';
import { NO_PACKET_LINE, type TextSkipped } from '../tcpdump-text.ts';

/**
 * "NAME: 3 text lines skipped (not tcpdump packet lines), first: line 1 "…", line 4 "…"", or null when
 * none, or when the read's fatal problem (given as `fatal`) already names those lines.
 */
export function skippedLinesNote(name: string, skipped: TextSkipped | undefined, fatal?: { message: string }, examples = 3): string | null {
  if (skipped === undefined || skipped.count === 0 || fatal?.message.startsWith(NO_PACKET_LINE)) return null;
  const ex = skipped.examples.slice(0, examples).map((e) => {
    const t = e.text.length > 60 ? e.text.slice(0, 60) + '…' : e.text;
    return `line ${e.line} "${visible(t)}"`;
  });
  const lines = skipped.count === 1 ? '1 text line' : `${skipped.count} text lines`;
  return `${visible(name)}: ${lines} skipped (not tcpdump packet lines)${ex.length ? ', first: ' + ex.join(', ') : ''}`;
}
