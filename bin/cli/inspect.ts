// `tandem inspect FILE`: the decoded packet list, as text or one JSON object per frame.
import { loadCapture } from '../../shared/ingest/load-capture.ts';
import { parseIpLink } from '../../shared/capture-file/links.ts';
import { packetToJson } from '../../shared/ingest/packet-json.ts';
import { clockNs } from '../../shared/util/time.ts';
import { openCapture, readText, parseArgs, Out, UsageError, problemLine, problemNotes, inflateOptions, displayName } from './io.ts';
import { skippedLinesNote } from '../../shared/capture-file/text/skipped.ts';
import { jsonVisible, visible } from '../../shared/util/shell.ts';
import type { Packet } from '../../shared/protocols/packet.ts';

export async function inspect(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { json: 'boolean', links: 'string', 'max-inflate': 'string' });
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one FILE');
  const file = positionals[0];
  const linkNames = typeof flags.links === 'string' ? parseIpLink(readText(flags.links)) : undefined;
  const out = new Out();
  const json = flags.json === true;
  const it = loadCapture(openCapture(file), { linkNames, ...inflateOptions(flags) });
  for (;;) {
    const step = await it.next();
    if (step.done) {
      await out.end();
      const fatal = step.value.problems.find((p) => p.fatal);
      for (const l of problemNotes(file, step.value.problems)) process.stderr.write(l + '\n');
      const skipped = skippedLinesNote(displayName(file), step.value.skipped, fatal);
      if (skipped) process.stderr.write(`note: ${skipped}\n`);
      if (fatal) {
        process.stderr.write(`error: ${problemLine(file, fatal)}\n`);
        return 1;
      }
      return 0;
    }
    for (const p of step.value.packets) out.line(json ? jsonVisible(JSON.stringify(packetToJson(p))) : textLine(p));
    await out.drain();
    if (out.closed) return 0;
  }
}

/** One packet as text; names and summaries come from the capture, so no control byte passes (visible). */
function textLine(p: Packet): string {
  const iface = p.iface ? visible(p.iface).padEnd(6) + ' ' : '';
  const dir = p.dir && p.dir !== 'unknown' ? (DIR[p.dir] ?? p.dir).padEnd(3) + ' ' : '';
  return `${String(p.frame).padStart(6)} ${clockNs(p.tsSec, p.tsNsec)} ${iface}${dir}${visible(p.summary)}${p.truncated ? ` [${visible(p.truncated)}]` : ''}`;
}

const DIR: Record<string, string> = { in: 'In', out: 'Out', broadcast: 'B', multicast: 'M', otherhost: 'P' };
