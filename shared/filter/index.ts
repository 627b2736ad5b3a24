// Display filters: a small Wireshark-like language over the flat Packet record (see README.md).
// compileFilter never throws: a bad filter comes back as an error with the character offset to mark.

import type { Packet } from '../protocols/packet.ts';
import { compileAst } from './compile.ts';
import { FilterError, parse } from './parse.ts';

export { fieldList, type FieldType, type FilterCtx } from './fields.ts';

export type FilterResult =
  | { ok: true; predicate: (p: Packet, ctx?: { checkpoint?: string }) => boolean; fields: string[] }
  | { ok: false; error: string; at: number };

const always = (): boolean => true;

export function compileFilter(src: string): FilterResult {
  if (src.trim() === '') return { ok: true, predicate: always, fields: [] };
  try {
    const { predicate, fields } = compileAst(parse(src));
    return { ok: true, predicate, fields };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, error: e.message, at: e.at };
    return { ok: false, error: e instanceof Error ? e.message : String(e), at: 0 };
  }
}

/** A filter string literal for any text (an interface name from a capture may hold quotes or backslashes). */
export function quoteFilterString(s: string): string {
  return '"' + s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}
