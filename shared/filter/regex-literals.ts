// What every match of a `matches` pattern must contain, so that a search of a chunk's text can pick
// the rows worth running the regular expression on (shared/filter/columns.ts, matchesLeaf).
//
// The pattern is JavaScript regex syntax without the `u` flag (Annex B: a `{` that starts no
// quantifier, `]` and `}` are plain characters), compiled case-insensitively (flag `i` only). This is a
// small parser of that syntax, not a full one: it follows the structure (groups, alternation,
// classes, quantifiers, escapes) exactly and takes only plain ASCII characters as literal text;
// everything else it understands as "something unknown here", which is always sound; what it does not
// understand (unknown group kinds, named backreferences it cannot read) makes it give up, and the
// caller then tests every row. (The regjsparser / regexpp packages parse all of it, but shared/ may
// import only shared/.)
//
// Why ASCII only: with `i` and no `u`, a character matches an ASCII pattern character only when its
// upper case is that character's upper case, and a non-ASCII character never upper-cases into ASCII
// there (ECMA-262 Canonicalize), so an ASCII literal is found exactly by an ASCII case fold of the text.

/** Literals (lower-case ASCII, non-empty) every match of a pattern holds at least one of. */
export interface RegexLiterals {
  alts: string[];
  /**
   * True when the pattern matches a text exactly when the text holds one of `alts` in any case (the
   * pattern is a plain literal or an alternation of them): the search alone is then the answer.
   */
  whole: boolean;
}

/** One piece of a pattern: every text it can match (when few and all plain), and literals one of which every match holds. */
interface Info {
  exact: Set<string> | null;
  req: string[] | null;
  /** For a repeated piece (x{n,} with x exact): what each of its matches starts with and ends with (x repeated n times). */
  ends?: Set<string>;
}

/** Nothing known: matches anything, the empty text too. */
const ANY: Info = { exact: null, req: null };

/** Most texts an exact set keeps, and most literals a requirement offers (each costs a search). */
const MAX_EXACT = 16;
const MAX_ALTS = 8;
/** Longest literal kept in an exact set (longer ones gain nothing in selectivity). */
const MAX_LEN = 64;

class Refuse extends Error {}

function reqOf(set: Set<string> | null): string[] | null {
  if (set === null || set.size === 0 || set.has('') || set.size > MAX_ALTS) return null;
  return [...set];
}

/** Higher is better: a longer shortest literal (up to a point), less so than fewer literals (each one more search). */
function score(alts: string[]): number {
  let min = Infinity;
  for (const a of alts) min = Math.min(min, a.length);
  return Math.min(min, 6) * 100 - (alts.length - 1) * 150;
}

function better(a: string[] | null, b: string[] | null): string[] | null {
  if (a === null) return b;
  if (b === null) return a;
  return score(b) > score(a) ? b : a;
}

function cross(a: Set<string>, b: Set<string>): Set<string> | null {
  if (a.size * b.size > MAX_EXACT) return null;
  const out = new Set<string>();
  for (const x of a) for (const y of b) {
    if (x.length + y.length > MAX_LEN) return null;
    out.add(x + y);
  }
  return out;
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Deepest group nesting analysed (the parser recurses per group; V8 compiles far deeper patterns). */
const MAX_DEPTH = 200;

class Parser {
  i = 0;
  depth = 0;
  constructor(readonly s: string) {}

  /** Alternatives up to `)` or the end. */
  alternation(): Info {
    const branches: Info[] = [this.sequence()];
    while (this.s[this.i] === '|') { this.i++; branches.push(this.sequence()); }
    if (branches.length === 1) return branches[0]!;
    let exact: Set<string> | null = new Set();
    let req: string[] | null = [];
    for (const b of branches) {
      if (exact !== null && b.exact !== null) for (const x of b.exact) exact.add(x);
      else exact = null;
      if (req !== null && b.req !== null) req.push(...b.req);
      else req = null;
    }
    if (exact !== null && exact.size > MAX_EXACT) exact = null;
    if (req !== null) req = [...new Set(req)];
    if (req !== null && req.length > MAX_ALTS) req = null;
    return { exact, req: better(req, reqOf(exact)) };
  }

  /** A concatenation: runs of exact pieces multiply into longer literals; an unknown piece ends a run. */
  sequence(): Info {
    let run: Set<string> = new Set(['']);
    let allExact = true;
    let best: string[] | null = null;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '|' || c === ')') break;
      for (const piece of this.term()) {
        if (piece.ends !== undefined) {
          // Its first repetitions follow the run, its last ones lead the next run.
          allExact = false;
          best = better(best, reqOf(run));
          const joined = cross(run, piece.ends);
          if (joined !== null) best = better(best, reqOf(joined));
          best = better(best, piece.req);
          run = piece.ends;
          continue;
        }
        if (piece.exact !== null) {
          const joined = cross(run, piece.exact);
          if (joined !== null) { run = joined; continue; }
          // Too many texts: what is known so far is a requirement, and a new run starts here.
          allExact = false;
          best = better(best, reqOf(run));
          run = piece.exact;
          continue;
        }
        allExact = false;
        best = better(best, reqOf(run));
        best = better(best, piece.req);
        run = new Set(['']);
      }
    }
    best = better(best, reqOf(run));
    return { exact: allExact ? run : null, req: best };
  }

  /** One atom with its quantifier, as the pieces it stands for in a sequence. */
  term(): Info[] {
    const atom = this.atom();
    const q = this.quantifier();
    if (q === null) return [atom];
    const [min, max] = q;
    if (min === 0) {
      // x? keeps a small exact set (colou?r); anything else may match nothing.
      if (max === 1 && atom.exact !== null) return [{ exact: new Set([...atom.exact, '']), req: null }];
      return [ANY];
    }
    if (atom.exact !== null && min <= 4) {
      let rep: Set<string> | null = new Set(['']);
      for (let k = 0; k < min && rep !== null; k++) rep = cross(rep, atom.exact);
      if (rep !== null) return [min === max ? { exact: rep, req: reqOf(rep) } : { exact: null, req: reqOf(rep), ends: rep }];
    }
    // x{n,m} with n >= 1 is x followed by something unknown.
    return [atom, ANY];
  }

  /** A quantifier after an atom, as [min, max], or null (a `{` that starts none is a plain character). */
  quantifier(): [number, number] | null {
    const s = this.s;
    const c = s[this.i];
    let q: [number, number] | null = null;
    if (c === '*') { q = [0, Infinity]; this.i++; }
    else if (c === '+') { q = [1, Infinity]; this.i++; }
    else if (c === '?') { q = [0, 1]; this.i++; }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (m === null) return null;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      q = [min, max];
      this.i += m[0].length;
    }
    if (q !== null && s[this.i] === '?') this.i++; // lazy: the same texts
    return q;
  }

  atom(): Info {
    const s = this.s;
    const c = s[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.cls();
    if (c === '\\') return this.escape();
    this.i++;
    // Wildcard and anchors: nothing to require (an anchor cuts the literal there).
    if (c === '.' || c === '^' || c === '$') return ANY;
    if (c === '*' || c === '+' || c === '?') throw new Refuse('quantifier without an atom');
    return char(c);
  }

  group(): Info {
    const s = this.s;
    this.i++;
    let look = false;
    if (s[this.i] === '?') {
      const rest = s.slice(this.i + 1);
      if (rest.startsWith(':')) this.i += 2;
      else if (rest.startsWith('=') || rest.startsWith('!')) { this.i += 2; look = true; }
      else if (rest.startsWith('<=') || rest.startsWith('<!')) { this.i += 3; look = true; }
      else {
        const name = /^<[A-Za-z_$][\w$]*>/.exec(rest);
        if (name === null) throw new Refuse('group kind not analysed');
        this.i += 1 + name[0].length;
      }
    }
    if (++this.depth > MAX_DEPTH) throw new Refuse('groups nested too deep');
    const inner = this.alternation();
    this.depth--;
    if (s[this.i] !== ')') throw new Refuse('unclosed group');
    this.i++;
    // A lookaround matches no text of its own: it only cuts the literal.
    return look ? ANY : inner;
  }

  /** A class: exact when it lists a few plain ASCII characters (case folded), else one unknown character. */
  cls(): Info {
    const s = this.s;
    this.i++;
    let neg = false;
    if (s[this.i] === '^') { neg = true; this.i++; }
    let plain = !neg;
    const chars = new Set<string>();
    for (;;) {
      const c = s[this.i];
      if (c === undefined) throw new Refuse('unclosed class');
      if (c === ']') { this.i++; break; }
      if (c === '\\') { plain = false; this.i += 2; continue; }
      if (c === '-' || c.charCodeAt(0) > 127) plain = false;
      chars.add(c.toLowerCase());
      this.i++;
    }
    if (!plain || chars.size === 0 || chars.size > 4) return ANY;
    return { exact: chars, req: reqOf(chars) };
  }

  escape(): Info {
    const s = this.s;
    const c = s[this.i + 1];
    if (c === undefined) throw new Refuse('trailing backslash');
    this.i += 2;
    const code = c.charCodeAt(0);
    // An ASCII character that is not a letter or digit stands for itself.
    if (code < 128 && !/[A-Za-z0-9]/.test(c)) return char(c);
    if (/[0-9]/.test(c)) {
      // A backreference or an octal escape: all its digits belong to it.
      while (/[0-9]/.test(s[this.i] ?? '')) this.i++;
      return ANY;
    }
    if (c === 'c') { if (/[A-Za-z]/.test(s[this.i] ?? '')) this.i++; return ANY; }
    if (c === 'x') { for (let k = 0; k < 2 && isHex(s[this.i]); k++) this.i++; return ANY; }
    if (c === 'u') { for (let k = 0; k < 4 && isHex(s[this.i]); k++) this.i++; return ANY; }
    if (c === 'k' && s[this.i] === '<') {
      const name = /^<[A-Za-z_$][\w$]*>/.exec(s.slice(this.i));
      if (name === null) throw new Refuse('named reference not analysed');
      this.i += name[0].length;
      return ANY;
    }
    // Classes (\d \w \s …), boundaries (\b \B), control characters and letters escaped for nothing.
    return ANY;
  }
}

/** One pattern character: exact when plain ASCII, case folded; another character is left unknown. */
function char(c: string): Info {
  if (c.charCodeAt(0) > 127) return ANY;
  const set = new Set([c.toLowerCase()]);
  return { exact: set, req: [...set] };
}

/**
 * The literals every match of `pattern` (compiled with flag `i` alone; the caller has checked that it
 * compiles) holds one of, or undefined when there is none or the pattern is beyond this analysis.
 */
export function regexLiterals(pattern: string): RegexLiterals | undefined {
  let info: Info;
  const p = new Parser(pattern);
  try {
    info = p.alternation();
    if (p.i !== pattern.length) return undefined;
  } catch (e) {
    if (e instanceof Refuse) return undefined;
    throw e;
  }
  const exactAlts = reqOf(info.exact);
  if (exactAlts !== null) return { alts: exactAlts.sort(), whole: true };
  if (info.req === null) return undefined;
  return { alts: [...info.req].sort(), whole: false };
}
