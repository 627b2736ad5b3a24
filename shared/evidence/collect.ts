// Host evidence as the app and the CLI keep it: named texts per host. One place turns them into the
// bundles the analysis takes, so the same files give the same findings in the app and on the
// command line.
import { addEvidence, detectAndParse, emptyEvidence, EvidenceFormatError } from './detect.ts';
import { MAX_TEXT_CHARS, type ParseProblem } from './text.ts';
import type { EvidenceFormat, HostEvidence } from './types.ts';

/** Largest evidence file or paste accepted (the parsers read no further anyway). */
export const MAX_EVIDENCE_BYTES = MAX_TEXT_CHARS;
/** Problems kept per item: a wrong file can have one per line, and the first ones tell the story. */
export const MAX_KEPT_PROBLEMS = 100;

/** The command each format comes from, as a user would recognise it. */
export const EVIDENCE_FORMAT_LABEL: Readonly<Record<EvidenceFormat, string>> = {
  'wg-dump': 'wg show all dump',
  'wg-transfer': 'wg show all transfer',
  'ip-addr': 'ip -o addr',
  'ip-route': 'ip route',
  'ip-route-get': 'ip route get',
  'ip-rule': 'ip rule',
  'nft-json': 'nft -j list ruleset',
  'nft-text': 'nft list ruleset',
  'iptables-save': 'iptables-save -c',
  sysctl: 'sysctl',
  'ip-s-link': 'ip -s link',
  swanctl: 'swanctl --list-conns/--list-sas',
  'ipsec-status': 'ipsec statusall',
  'xfrm-policy': 'ip xfrm policy',
  'xfrm-state': 'ip xfrm state',
  'ipsec-log': 'IKE daemon log',
};

export interface EvidenceText {
  name: string;
  text: string;
}

/** A line a parser could not read, with the start of that line as given (for showing, never for trusting). */
export interface EvidenceProblem extends ParseProblem {
  text?: string;
}

/** What reading one text found: its format, or why none fits. */
export interface EvidenceReading {
  name: string;
  format: EvidenceFormat | null;
  /** At most MAX_KEPT_PROBLEMS; `problemCount` is the full number. */
  problems: EvidenceProblem[];
  problemCount: number;
  /** Set when no parser recognises the text: one line naming the item and its first line. */
  error?: string;
}

/** One line refusing a text over the limit, or null when it fits. `bytes` is the file's size or the paste's length. */
export function evidenceSizeError(name: string, bytes: number): string | null {
  if (bytes <= MAX_EVIDENCE_BYTES) return null;
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  // Just over the limit rounds to the limit itself: then the exact count says why.
  const size = mib(bytes) === mib(MAX_EVIDENCE_BYTES) ? `${bytes} bytes` : mib(bytes);
  return `${name}: ${size} is over the ${mib(MAX_EVIDENCE_BYTES)} limit for host evidence; keep the lines around the test and try again`;
}

function reading(name: string, text: string, format: EvidenceFormat, problems: ParseProblem[]): EvidenceReading {
  const kept = problems.slice(0, MAX_KEPT_PROBLEMS);
  let lines: string[] | null = null;
  const out: EvidenceProblem[] = kept.map((p) => {
    // Split only when something needs quoting; line numbers are 1-based in the text as given.
    lines ??= text.split(/\r?\n|\r/, Math.max(...kept.map((q) => q.line)));
    const l = lines[p.line - 1];
    return l === undefined ? { ...p } : { ...p, text: l.length > 200 ? `${l.slice(0, 200)}…` : l };
  });
  return { name, format, problems: out, problemCount: problems.length };
}

/** Recognises and parses one text, as the app does when it is added: an unknown text is a reading with `error`, not a throw. */
export function readEvidenceText(name: string, text: string): EvidenceReading {
  try {
    const p = detectAndParse(text, name);
    return reading(name, text, p.format, p.problems);
  } catch (e) {
    if (!(e instanceof EvidenceFormatError)) throw e;
    return { name, format: null, problems: [], problemCount: 0, error: e.message };
  }
}

/**
 * One host's texts, in the order given (a later counter reading is the "after" one unless the names
 * say otherwise), as a bundle. `evidence` is undefined when no text was recognised, so a host whose
 * texts are all unknown is analysed as if it had none.
 */
export function evidenceFromTexts(items: readonly EvidenceText[]): { evidence: HostEvidence | undefined; readings: EvidenceReading[] } {
  const h = emptyEvidence();
  const readings: EvidenceReading[] = [];
  for (const it of items) {
    let parsed;
    try {
      parsed = detectAndParse(it.text, it.name);
    } catch (e) {
      if (!(e instanceof EvidenceFormatError)) throw e;
      readings.push({ name: it.name, format: null, problems: [], problemCount: 0, error: e.message });
      continue;
    }
    addEvidence(h, parsed);
    readings.push(reading(it.name, it.text, parsed.format, parsed.problems));
  }
  return { evidence: h.sources.length > 0 ? h : undefined, readings };
}

/**
 * Both hosts' texts, keyed as the captures are given (A = the capture given first): the value for
 * `AnalyzeOptions.evidence`, which follows each host when the analysis swaps roles. Undefined when
 * neither host has recognised evidence.
 */
export function hostsEvidence(by: { A?: readonly EvidenceText[]; B?: readonly EvidenceText[] }): {
  evidence: { A?: HostEvidence; B?: HostEvidence } | undefined;
  readings: { A: EvidenceReading[]; B: EvidenceReading[] };
} {
  const out: { A?: HostEvidence; B?: HostEvidence } = {};
  const readings: { A: EvidenceReading[]; B: EvidenceReading[] } = { A: [], B: [] };
  for (const host of ['A', 'B'] as const) {
    const r = evidenceFromTexts(by[host] ?? []);
    readings[host] = r.readings;
    if (r.evidence !== undefined) out[host] = r.evidence;
  }
  return { evidence: out.A !== undefined || out.B !== undefined ? out : undefined, readings };
}

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/**
 * Stands in for a private or preshared key in a stored `wg show all dump`: shaped like a key so the
 * text still reads as a dump (a preshared key stays "present"), and says what happened to it.
 */
export const REMOVED_WG_KEY = 'REMOVED+by+Tandem+secret+not+kept+'.padEnd(42, 'x') + 'A=';

function withoutWgKeys(line: string): { line: string; n: number } {
  // Fields as the parser splits them (tabs, or runs of blanks), separators kept so the line is otherwise unchanged.
  const parts = line.split(/([ \t]+)/);
  const at: number[] = [];
  for (let i = 0; i < parts.length; i += 2) if (parts[i] !== '') at.push(i);
  const f = at.map((i) => parts[i]!);
  const k = (j: number): boolean => WG_KEY.test(f[j] ?? '');
  // Interface line: [iface] private public port fwmark; peer line: [iface] public preshared endpoint ….
  const secret = f.length === 5 && k(1) && k(2) ? 1 : f.length === 4 && k(0) && k(1) ? 0
    : f.length === 9 && k(1) && k(2) ? 2 : f.length === 8 && k(0) && k(1) ? 1 : -1;
  if (secret < 0 || f[secret] === REMOVED_WG_KEY) return { line, n: 0 };
  parts[at[secret]!] = REMOVED_WG_KEY;
  return { line: parts.join(''), n: 1 };
}

/**
 * The text without the secrets some commands print, for keeping it: WireGuard private and preshared
 * keys (`wg show all dump`), ESP/AH keys (`ip xfrm state`). The parsers never use them, so the
 * facts read from the result are the same. `removed` counts what was replaced.
 */
export function withoutSecrets(format: EvidenceFormat, text: string): { text: string; removed: number } {
  let removed = 0;
  if (format === 'wg-dump') {
    const out = text.split(/(\r?\n|\r)/).map((part, i) => {
      if (i % 2 === 1) return part;
      const r = withoutWgKeys(part);
      removed += r.n;
      return r.line;
    });
    return { text: removed > 0 ? out.join('') : text, removed };
  }
  if (format === 'xfrm-state') {
    const out = text.replace(/^(\s*(?:aead|enc|auth|auth-trunc)\s+\S+\s+)0x[0-9a-fA-F]+/gm, (_m, head: string) => {
      removed++;
      return `${head}(removed-by-Tandem)`;
    });
    return { text: out, removed };
  }
  return { text, removed };
}
