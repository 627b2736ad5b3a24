// Capture text is hostile: any value taken from a capture, a pasted text or a far end's answer that
// goes into a command we suggest must be quoted so a shell reads it as one word, and shown with its
// control characters made visible so a terminal cannot hide or restyle part of the command.

/** Characters a POSIX shell never treats specially inside a word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
 * (bidi embeddings/overrides/isolates, zero-width joiners, line/paragraph separators, BOM).
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * The text with every control or invisible format character replaced by a visible escape
 * (`\x1b`, `\u202e`), as tcpdump prints unprintable bytes: safe to write to a terminal or to put
 * in a report, and the reader still sees that something odd was there.
 */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * JSON text (from JSON.stringify) with every character a terminal could act on or that reorders text
 * written as a \u escape. JSON.stringify already escapes C0; DEL, C1 and the bidi/format characters
 * it leaves raw. They can only occur inside strings, where the escape parses back to the same value.
 */
export function jsonVisible(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** True when `s` contains a character that `visible` would escape. */
export function hasInvisible(s: string): boolean {
  INVISIBLE.lastIndex = 0;
  const r = INVISIBLE.test(s);
  INVISIBLE.lastIndex = 0;
  return r;
}

/**
 * One shell word for `s`: bare when it holds only safe characters, otherwise single-quoted (an
 * embedded quote becomes '\'' ). Control characters are made visible first, so the result never
 * carries a byte a terminal would act on; a value that needed that is no longer the original
 * value, which is why callers with strict rules (interface names) check them before quoting.
 */
export function shellQuote(s: string): string {
  const v = visible(s);
  if (v.length > 0 && SAFE_WORD.test(v) && !v.startsWith('-')) return v;
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * Linux accepts an interface name of 1–15 bytes without '/', ':' or white space that is not
 * "." or ".." (dev_valid_name); we also refuse control characters and a leading '-', which a
 * command would read as an option.
 */
export function isInterfaceName(s: string): boolean {
  if (s.length === 0 || s === '.' || s === '..' || s.startsWith('-')) return false;
  if (new TextEncoder().encode(s).length > 15) return false;
  // eslint-disable-next-line no-control-regex
  return !/[/:\s\u0000-\u001f\u007f-\u009f]/.test(s) && !hasInvisible(s);
}

/**
 * Tagged template for a suggested command: each interpolated value becomes one quoted shell word
 * (numbers as they are). `cmd\`ip route get ${dst}\`` → "ip route get 192.168.200.22".
 */
export function cmd(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out += (typeof v === 'number' ? String(v) : shellQuote(v)) + strings[i + 1]!;
  }
  return out;
}

/**
 * An interface name for a command: the name itself when it obeys the kernel's rules, otherwise
 * the placeholder (e.g. "<B's LAN interface>") so the command stays runnable text and the odd
 * name is reported as data by the caller (`describeOddName`).
 */
export function ifaceWord(name: string, placeholder: string): string {
  return isInterfaceName(name) ? name : placeholder;
}

/** A sentence that shows an unusable name as quoted data, never as part of a command. */
export function describeOddName(what: string, name: string): string {
  return `${what} in the capture is not a valid interface name, shown here as data: "${proseData(name).replace(/"/g, '\\"')}".`;
}

// Engine prose (finding titles, details, next steps, verdict text) is plain text whose only markup
// is a code span (shared/util/prose.ts reads it, the same way for the HTML and Markdown reports and
// the app). The rule for a value from a capture, a paste or a far end, wherever it goes into prose:
//   - in running text: `proseData(value)`: control characters visible as with `visible`, and a
//     backtick written \x60 in the same style, so data can never open, close or split a code span;
//   - in a command: quote it with `cmd`/`shellQuote` and wrap the command in `proseCode`, whose fence
//     is longer than any backtick run inside, so the command (backticks too) is shown exactly.
// Nothing else in prose is markup: `*`, `_`, `[`, `|`, `<`, `&` reach each renderer as text.

/**
 * A capture value for running prose: `visible`, and a backtick as \x60 (it would delimit code).
 * Takes what a template literal would (a missing value reads as it always did).
 */
export function proseData(s: string | number | null | undefined): string {
  return visible(String(s)).replace(/`/g, '\\x60');
}

/**
 * A command (built with `cmd`) as a code span in prose: one backtick each side, or, when the command
 * holds backticks, a fence one longer than its longest run with a space inside each end.
 */
export function proseCode(s: string): string {
  if (!s.includes('`')) return '`' + s + '`';
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${s} ${fence}`;
}
