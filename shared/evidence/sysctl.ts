// `sysctl KEY…` / `sysctl -a` lines ("net.ipv4.ip_forward = 1"; /proc/sys paths are folded to
// dotted keys) and the two settings the path depends on: forwarding and reverse-path filtering.
import { cleanLines, type ParseProblem } from './text.ts';
import type { Family } from './net.ts';

export interface Sysctl {
  values: Record<string, string>;
  lines: Record<string, number>;
}

export function parseSysctl(text: string): { facts: Sysctl; problems: ParseProblem[] } {
  const { lines, problems } = cleanLines(text);
  const facts: Sysctl = { values: Object.create(null) as Record<string, string>, lines: Object.create(null) as Record<string, number> };
  for (const { n, text: t } of lines) {
    const m = /^\s*(?:\/proc\/sys\/)?([A-Za-z0-9_./@:-]+?)\s*[=:]\s*(.*)$/.exec(t);
    if (!m || !/[./]/.test(m[1]!)) {
      if (/^sysctl: cannot stat/.test(t)) continue;
      problems.push({ line: n, message: 'not a "key = value" line of sysctl' });
      continue;
    }
    const key = m[1]!.replace(/\//g, '.');
    facts.values[key] = m[2]!.trim();
    facts.lines[key] = n;
  }
  return { facts, problems };
}

/** Forwarding for the family: true/false, or null when the paste does not say. */
export function forwardingEnabled(s: Sysctl, family: Family, iface?: string): boolean | null {
  const v = family === 4
    ? s.values['net.ipv4.ip_forward'] ?? (iface ? s.values[`net.ipv4.conf.${iface}.forwarding`] : undefined) ?? s.values['net.ipv4.conf.all.forwarding']
    : (iface ? s.values[`net.ipv6.conf.${iface}.forwarding`] : undefined) ?? s.values['net.ipv6.conf.all.forwarding'];
  if (v === undefined) return null;
  return v.trim() !== '0';
}

/**
 * The rp_filter mode the kernel applies on `iface`: the larger of conf.all and conf.IFACE
 * (0 off, 1 strict, 2 loose); null when neither was pasted.
 */
export function rpFilter(s: Sysctl, iface: string): { mode: number; key: string } | null {
  const all = s.values['net.ipv4.conf.all.rp_filter'];
  const own = s.values[`net.ipv4.conf.${iface}.rp_filter`];
  if (all === undefined && own === undefined) return null;
  const a = Number(all ?? 0), o = Number(own ?? 0);
  return a >= o ? { mode: a, key: 'net.ipv4.conf.all.rp_filter' } : { mode: o, key: `net.ipv4.conf.${iface}.rp_filter` };
}

export function quoteSysctl(s: Sysctl, key: string): string {
  return `${key} = ${s.values[key] ?? '?'}`;
}
