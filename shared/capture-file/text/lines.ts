// Splits streamed text into lines once (LF, CRLF, or a lone CR as old Mac tools write): each chunk
// is scanned only for its own line ends and an unfinished line is kept as a list of pieces, so a line spread over many chunks costs its length,
// not its length times the number of chunks. Past MAX_LINE characters a line is not kept at all:
// only its first characters (for the report) and its length in bytes.

/** Longest line kept, in UTF-16 units. tcpdump's longest real lines (-vv IKE, -X) stay far below. */
export const MAX_LINE = 64 * 1024;
/** Characters of an overlong line kept for the skipped-lines report. */
export const HEAD_KEEP = 200;

export interface LineSink {
  line(text: string): void;
  /** A line longer than MAX_LINE: its first characters and its full length in UTF-8 bytes. */
  longLine(head: string, bytes: number): void;
}

/** UTF-8 byte length of s[from, to) without building the bytes. */
export function utf8Bytes(s: string, from = 0, to = s.length): number {
  let n = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // 2 bytes from U+0080, 3 from U+0800; a surrogate pair (2 units) is 4 bytes: 1 extra per unit.
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

export class LineSplitter {
  private parts: string[] = [];
  private partLen = 0;
  /** Bytes of the current overlong line, or -1 while the line is still within MAX_LINE. */
  private overBytes = -1;
  private head = '';
  /** The last chunk ended in a CR: whether it ends the line depends on the next character. */
  private pendingCR = false;

  constructor(private readonly sink: LineSink) {}

  push(text: string): void {
    if (text.length === 0) return;
    let start = 0;
    if (this.pendingCR) {
      // A CR ended the last chunk: with an LF after it, it stays on the line (the parser drops it and
      // byte offsets count both); alone, it was the line end (classic Mac text).
      this.pendingCR = false;
      if (text.charCodeAt(0) === 10) this.add('\r', 0, 1);
      else this.finish();
    }
    let nl = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    for (;;) {
      // Only a lone CR ends a line; one before an LF belongs to that line. cr only moves forward: linear.
      while (cr >= 0 && cr + 1 < text.length && text.charCodeAt(cr + 1) === 10) cr = text.indexOf('\r', cr + 1);
      if (cr === text.length - 1 && nl < 0) {
        if (cr > start) this.add(text, start, cr);
        this.pendingCR = true;
        return;
      }
      const brk = cr >= 0 && (nl < 0 || cr < nl) ? cr : nl;
      if (brk < 0) {
        if (text.length > start) this.add(text, start, text.length);
        return;
      }
      if (brk > start) this.add(text, start, brk);
      this.finish();
      start = brk + 1;
      if (nl >= 0 && nl < start) nl = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
    }
  }

  /** Ends the input: a last line without its newline is still a line. */
  end(): void {
    if (this.pendingCR) { this.pendingCR = false; this.finish(); return; }
    if (this.partLen > 0 || this.overBytes >= 0) this.finish();
  }

  private add(text: string, s: number, e: number): void {
    if (this.overBytes >= 0) { this.overBytes += utf8Bytes(text, s, e); return; }
    if (this.partLen + (e - s) <= MAX_LINE) {
      this.parts.push(text.slice(s, e));
      this.partLen += e - s;
      return;
    }
    const kept = this.parts.join('');
    this.head = (kept + text.slice(s, s + HEAD_KEEP)).slice(0, HEAD_KEEP);
    this.overBytes = utf8Bytes(kept) + utf8Bytes(text, s, e);
    this.parts = [];
    this.partLen = 0;
  }

  private finish(): void {
    if (this.overBytes >= 0) {
      const head = this.head, bytes = this.overBytes;
      this.overBytes = -1;
      this.head = '';
      this.sink.longLine(head, bytes);
      return;
    }
    const line = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.partLen = 0;
    this.sink.line(line);
  }
}
