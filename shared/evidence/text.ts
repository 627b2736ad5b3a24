// Pasted command output is hostile and messy: prompts, echoed commands, CRLF, blank lines, a
// terminal's control bytes, a paste cut in the middle. Every parser reads it through here.

export interface ParseProblem {
  /** 1-based line in the pasted text. */
  line: number;
  message: string;
}

export interface Line {
  n: number;
  text: string;
}

/** Limits that keep a hostile paste from costing unbounded time or memory. */
export const MAX_LINES = 100_000;
export const MAX_LINE_CHARS = 4096;
export const MAX_TEXT_CHARS = 16 * 1024 * 1024;

const COMMANDS = /^(?:sudo\s+(?:-\S+\s+)*)?(?:wg|ip|nft|iptables-save|ip6tables-save|iptables|ip6tables|sysctl|swanctl|ipsec|journalctl|grep|egrep|tail|head|cat|less|zcat|ss|conntrack)(?:\s|$)/;
// user@host:~# , user@host:/etc$ , [root@host ~]# , host# , bare "# " or "$ "
const PROMPT = /^(?:\S+@\S+?(?::[^\s#$]*)?\s?[#$%>]|\[[^\]\n]{1,80}\][#$]|[\w.-]{1,64}[#$>]|[#$%>])\s*/;

export interface Cleaned {
  lines: Line[];
  /** Commands echoed with a prompt (e.g. "ip -6 route"), in order: they tell a parser the family or the form. */
  commands: string[];
  problems: ParseProblem[];
}

/**
 * The text's lines without echoed commands and empty lines; too long a line is cut (and said),
 * lines past the limit are dropped (and said). Line numbers refer to the original text.
 */
export function cleanLines(text: string, opts: { keepBlank?: boolean } = {}): Cleaned {
  const problems: ParseProblem[] = [];
  if (text.length > MAX_TEXT_CHARS) {
    problems.push({ line: 1, message: `text longer than ${MAX_TEXT_CHARS} characters; the rest is ignored` });
    text = text.slice(0, MAX_TEXT_CHARS);
  }
  const raw = text.split(/\r?\n|\r/);
  const lines: Line[] = [];
  const commands: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (i >= MAX_LINES) {
      problems.push({ line: i + 1, message: `more than ${MAX_LINES} lines; the rest is ignored` });
      break;
    }
    let t = raw[i]!;
    if (t.length > MAX_LINE_CHARS) {
      problems.push({ line: i + 1, message: `line longer than ${MAX_LINE_CHARS} characters, cut` });
      t = t.slice(0, MAX_LINE_CHARS);
    }
    // Terminal colour and cursor sequences from a copied terminal.
    // eslint-disable-next-line no-control-regex
    t = t.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+$/, '');
    const p = PROMPT.exec(t);
    if (p) {
      const rest = t.slice(p[0].length);
      if (rest === '' || COMMANDS.test(rest)) {
        if (rest !== '') commands.push(rest);
        continue;
      }
    } else if (COMMANDS.test(t) && /^(?:sudo\s|wg show|ip -|ip (?:route|rule|addr|xfrm|link)|nft |iptables-save|ip6tables-save|sysctl |swanctl |ipsec )/.test(t)) {
      // A command pasted without its prompt.
      commands.push(t);
      continue;
    }
    if (t.trim() === '' && !opts.keepBlank) continue;
    lines.push({ n: i + 1, text: t });
  }
  return { lines, commands, problems };
}

/** Whitespace-separated words. */
export const words = (s: string): string[] => s.trim().split(/\s+/).filter((w) => w !== '');

/** A non-negative integer no larger than 2^53, or null. */
export function num(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,16}$/.test(s)) return null;
  return Number(s);
}
