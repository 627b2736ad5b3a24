// `ip -s link` (multi-line or -o) into per-interface RX/TX counters, and their difference
// between a reading before and after the test.
import { cleanLines, num, type ParseProblem } from './text.ts';

export interface LinkCounters {
  dev: string;
  ifindex: number;
  rx: Record<string, number>;
  tx: Record<string, number>;
  line: number;
}

export function parseIpSLink(text: string): { facts: LinkCounters[]; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  // `ip -o -s link` puts a whole interface on one line, its parts joined by "\".
  const flat: Array<{ n: number; text: string }> = [];
  for (const l of lines) for (const part of l.text.split('\\')) if (part.trim() !== '') flat.push({ n: l.n, text: part });
  const out: LinkCounters[] = [];
  let cur: LinkCounters | null = null;
  let header: { dir: 'rx' | 'tx'; names: string[] } | null = null;
  for (const { n, text: t } of flat) {
    const h = /^(\d+):\s+([^\s:@]+)(?:@\S+?)?:\s/.exec(t);
    if (h) { cur = { dev: h[2]!, ifindex: Number(h[1]), rx: {}, tx: {}, line: n }; out.push(cur); header = null; continue; }
    const s = t.trim();
    const hd = /^(RX|TX):\s*(.*)$/.exec(s);
    if (hd) {
      // "RX: bytes packets errors …" (iproute2 ≥ 5) or "RX: bytes  packets  errors …" — the names follow.
      header = { dir: hd[1] === 'RX' ? 'rx' : 'tx', names: hd[2]!.split(/\s+/).filter((x) => x !== '') };
      continue;
    }
    if (header && cur && /^[\d\s]+$/.test(s)) {
      const vals = s.split(/\s+/);
      header.names.forEach((name, i) => { const v = num(vals[i]); if (v !== null) cur![header!.dir][name] = v; });
      header = null;
      continue;
    }
    if (/^(?:link\/|altname|alias|vf |RX errors|TX errors|\d)/.test(s) || cur) continue;
    problems.push({ line: n, message: 'not a line of "ip -s link"' });
  }
  return { facts: out, problems };
}

export function linkDelta(before: readonly LinkCounters[], after: readonly LinkCounters[]): Array<{ dev: string; rx: Record<string, number>; tx: Record<string, number> }> {
  return after.map((a) => {
    const b = before.find((x) => x.dev === a.dev);
    const d = (x: Record<string, number>, y: Record<string, number> | undefined): Record<string, number> =>
      Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v - (y?.[k] ?? 0)]));
    return { dev: a.dev, rx: d(a.rx, b?.rx), tx: d(a.tx, b?.tx) };
  });
}
