// Display-filter syntax: tokens and a recursive-descent parser into a small AST.
// Values stay as raw tokens here; their meaning (number, address, string) depends on the field
// and is decided when compiling, so an error can still point at the value's position.

export class FilterError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A literal as written: a quoted string or a bare word (number, address, name). */
export interface ValueTok { kind: 'string' | 'word'; text: string; at: number }

export type Node =
  | { k: 'or' | 'and'; a: Node; b: Node }
  | { k: 'not'; e: Node }
  | { k: 'exists'; field: string; at: number }
  | { k: 'cmp'; field: string; at: number; op: CmpOp; value: ValueTok }
  | { k: 'in'; field: string; at: number; values: ValueTok[] }
  | { k: 'contains' | 'matches'; field: string; at: number; value: ValueTok };

type Tok =
  | { t: 'word'; text: string; at: number }
  | { t: 'string'; text: string; at: number }
  | { t: 'op'; text: string; at: number }
  | { t: 'end'; text: ''; at: number };

const WORD = /[A-Za-z0-9_.:/-]/;
// Longest first so that "<=" is not read as "<".
const OPS = ['===', '!==', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '{', '}', ',', '~'];
const WORD_OPS: Record<string, string> = {
  and: '&&', or: '||', not: '!', eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=', in: 'in',
  contains: 'contains', matches: 'matches',
};

export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') { i++; continue; }
    if (ch === '"') {
      const start = i++;
      let s = '';
      for (;;) {
        if (i >= n) throw new FilterError('unterminated string', start);
        const c = src[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) throw new FilterError('unterminated string', start);
          const e = src[i++]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else s += c;
      }
      out.push({ t: 'string', text: s, at: start });
      continue;
    }
    if (WORD.test(ch)) {
      const start = i;
      while (i < n && WORD.test(src[i]!)) i++;
      const text = src.slice(start, i);
      const op = WORD_OPS[text.toLowerCase()];
      out.push(op !== undefined ? { t: 'op', text: op, at: start } : { t: 'word', text, at: start });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) {
      if (ch === '=') throw new FilterError('use == to compare', i);
      if (ch === '&' || ch === '|') throw new FilterError(`use ${ch}${ch}`, i);
      throw new FilterError(`unexpected character '${ch}'`, i);
    }
    // Wireshark's strict forms mean the same here: == is "any equal", != is "none equal".
    out.push({ t: 'op', text: op === '===' ? '==' : op === '!==' ? '!=' : op === '~' ? 'matches' : op, at: i });
    i += op.length;
  }
  out.push({ t: 'end', text: '', at: n });
  return out;
}

const CMP = new Set(['==', '!=', '<', '<=', '>', '>=']);

export function parse(src: string): Node {
  const toks = tokenize(src);
  let pos = 0;
  const peek = () => toks[pos]!;
  const isOp = (text: string) => { const t = peek(); return t.t === 'op' && t.text === text; };

  function describe(t: Tok): string {
    return t.t === 'end' ? 'end of filter' : t.t === 'string' ? 'a string' : `'${t.text}'`;
  }

  function orExpr(): Node {
    let a = andExpr();
    while (isOp('||')) { pos++; a = { k: 'or', a, b: andExpr() }; }
    return a;
  }
  function andExpr(): Node {
    let a = notExpr();
    while (isOp('&&')) { pos++; a = { k: 'and', a, b: notExpr() }; }
    return a;
  }
  function notExpr(): Node {
    if (isOp('!')) { pos++; return { k: 'not', e: notExpr() }; }
    return primary();
  }
  function value(): ValueTok {
    const t = peek();
    if (t.t === 'word' || t.t === 'string') { pos++; return { kind: t.t, text: t.text, at: t.at }; }
    throw new FilterError(`expected a value, found ${describe(t)}`, t.at);
  }
  function primary(): Node {
    const t = peek();
    if (t.t === 'op' && t.text === '(') {
      pos++;
      const e = orExpr();
      if (!isOp(')')) throw new FilterError(`expected ')', found ${describe(peek())}`, peek().at);
      pos++;
      return e;
    }
    if (t.t !== 'word') throw new FilterError(`expected a field name, found ${describe(t)}`, t.at);
    pos++;
    const field = t.text;
    const at = t.at;
    const o = peek();
    if (o.t === 'op' && CMP.has(o.text)) { pos++; return { k: 'cmp', field, at, op: o.text as CmpOp, value: value() }; }
    if (o.t === 'op' && (o.text === 'contains' || o.text === 'matches')) { pos++; return { k: o.text, field, at, value: value() }; }
    if (o.t === 'op' && o.text === 'in') {
      pos++;
      if (!isOp('{')) throw new FilterError(`expected '{' after in, found ${describe(peek())}`, peek().at);
      pos++;
      const values: ValueTok[] = [];
      while (!isOp('}')) {
        if (peek().t === 'end') throw new FilterError("expected '}'", peek().at);
        values.push(value());
        if (isOp(',')) pos++;
      }
      if (values.length === 0) throw new FilterError('empty set', peek().at);
      pos++;
      return { k: 'in', field, at, values };
    }
    return { k: 'exists', field, at };
  }

  const e = orExpr();
  const t = peek();
  if (t.t !== 'end') {
    const hint = t.t === 'word' || t.t === 'string' ? ' (missing && or ||?)' : '';
    throw new FilterError(`unexpected ${describe(t)}${hint}`, t.at);
  }
  return e;
}
