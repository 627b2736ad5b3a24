// Engine prose (finding titles, details, next steps, verdict text) is plain text whose only markup is
// a code span, written as CommonMark writes one: a run of N backticks, the code, and the next run of
// exactly N backticks. The engine writes commands that way (`proseCode` in shell.ts picks a fence
// longer than any backtick run inside). Values from a capture, a paste or a far end never carry a
// backtick into prose outside a span (`proseData` writes it as \x60), so every backtick run in prose
// is the engine's. The HTML and Markdown reports and the app split prose with this one function, so
// a span reads the same in all three, and nothing else in the text is ever taken for markup.

export interface ProsePart {
  /** True for a code span (a command, or a value shown exactly). */
  code: boolean;
  text: string;
}

/**
 * Prose split into plain text and code spans by CommonMark's code-span rule: an opening run is closed
 * by the next run of the same length; a run with no such partner is plain text. In a span, line breaks
 * read as spaces, and one space each side is dropped when both are there and the code is not all spaces
 * (that space lets a command start or end with a backtick). No backslash escapes: a backslash is text.
 */
export function splitProse(s: string): ProsePart[] {
  // Every backtick run once, then, per length, the runs in order: finding a run's partner is a step
  // along its length's list, so prose full of unmatched runs still splits in linear time.
  const runs: Array<{ at: number; len: number }> = [];
  for (const m of s.matchAll(/`+/g)) runs.push({ at: m.index, len: m[0].length });
  const byLen = new Map<number, number[]>();
  runs.forEach((r, i) => { const l = byLen.get(r.len); if (l) l.push(i); else byLen.set(r.len, [i]); });
  const cursor = new Map<number, number>();

  const out: ProsePart[] = [];
  let plainFrom = 0;
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    const list = byLen.get(open.len)!;
    let c = cursor.get(open.len) ?? 0;
    while (c < list.length && list[c]! <= i) c++;
    cursor.set(open.len, c);
    if (c >= list.length) continue; // no partner: the run stays in the plain text
    const closeIdx = list[c]!;
    const close = runs[closeIdx]!;
    if (open.at > plainFrom) out.push({ code: false, text: s.slice(plainFrom, open.at) });
    let t = s.slice(open.at + open.len, close.at).replace(/\r\n?|\n/g, ' ');
    if (t.length >= 2 && t.startsWith(' ') && t.endsWith(' ') && t.trim() !== '') t = t.slice(1, -1);
    out.push({ code: true, text: t });
    plainFrom = close.at + close.len;
    i = closeIdx;
  }
  if (plainFrom < s.length) out.push({ code: false, text: s.slice(plainFrom) });
  return out;
}
