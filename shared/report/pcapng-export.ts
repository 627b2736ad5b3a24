// Annotated pcapng: both hosts' packets in one file Wireshark opens, interfaces named "A:wg0",
// "B:eth0", checkpoint labels, findings and notes as packet comments, the session described in the
// section header. Optionally B's timestamps are moved onto A's clock so the merged timeline is real.
import type { Packet } from '../protocols/packet.ts';
import { PcapngWriter, synthesizeFrame, SYNTH_SNAPLEN } from '../capture-file/pcapng-writer.ts';
import { describeTarget, packetKey } from './notes.ts';
import type { CaptureSide, ReportInput } from './types.ts';
import { buildModel, clockSentence, correctToA, CLOCK_CONVENTION, type ReportModel } from './model.ts';
import { visible } from '../util/shell.ts';

/**
 * Text Tandem writes into the file (its comments, interface names and descriptions) carries capture
 * names, notes and interface names: control and bidi characters become visible escapes, line by line
 * (a comment keeps its line breaks), so `tshark -V` or `capinfos` cannot be made to restyle a terminal.
 * The capture's own packet comments are copied as they were: they are the original file's data.
 */
function shown(s: string): string {
  return s.split(/\r\n?|\n/).map(visible).join('\n');
}

export interface PcapngExportOptions {
  /** Which hosts go into the file (default both: the merged file). */
  sides?: CaptureSide[];
  /**
   * Move B's timestamps onto A's clock. Default: on for the merged file when the clock was
   * estimated from at least one pair, off for a single host's file.
   */
  correctClock?: boolean;
  /** Packets between two yielded chunks (bounds memory for large captures). */
  chunkPackets?: number;
}

interface Entry { side: CaptureSide; index: number; sec: number; nsec: number }

/** Comments Tandem adds to each annotated packet, keyed `A#12`. */
export function packetComments(m: ReportModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (side: CaptureSide, frame: number, text: string) => {
    const k = packetKey(side, frame);
    const l = out.get(k);
    const t = shown(text);
    if (l) { if (!l.includes(t)) l.push(t); } else out.set(k, [t]);
  };
  for (const c of m.result.checkpoints) {
    add(c.capture, c.frame, `Tandem ${c.label}: ${m.describe(c.label)} (${c.capture}#${c.frame})`);
    for (const n of m.notes.checkpoint.get(c.label) ?? []) add(c.capture, c.frame, `Tandem note on ${c.label}: ${n.text}`);
  }
  m.result.findings.forEach((f, i) => {
    const text = `Tandem finding ${i + 1} [${f.severity}]${f.checkpoint ? ` ${f.checkpoint}` : ''}: ${f.title} (fix on ${f.host}, class ${f.class})`;
    for (const e of f.evidence) add(e.capture, e.frame, text);
    const first = f.evidence[0];
    if (first) for (const n of m.notes.finding.get(i) ?? []) add(first.capture, first.frame, `Tandem note on finding ${i + 1}: ${n.text}`);
  });
  for (const [k, notes] of m.notes.packet) {
    const [side, frame] = [k.slice(0, 1) as CaptureSide, Number(k.slice(2))];
    for (const n of notes) add(side, frame, `Tandem note: ${n.text}`);
  }
  return out;
}

function sessionComment(m: ReportModel, sides: CaptureSide[], corrected: boolean): string {
  const r = m.result;
  const v = r.verdict;
  const lines = [
    `Tandem session export (${sides.length === 2 ? 'both hosts merged in time order' : `host ${sides[0]} only`})`,
    ...sides.map((s) => `${s}: ${m.capture(s).name} (${m.capture(s).packets.length} packets); interfaces prefixed "${s}:"`),
    `Verdict: ${v.status.toUpperCase()}${v.first_missing ? `, first missing ${v.first_missing}` : ''}${v.class && v.class !== 'none' ? ` (${v.class}, fix on ${v.host})` : ''}: ${v.summary}`,
    `Clock: ${clockSentence(r)}`,
  ];
  if (sides.includes('B')) {
    lines.push(corrected
      ? `B timestamps in this file are corrected onto A's clock (${CLOCK_CONVENTION}; offset ${r.clock.offset_s} s, skew ${r.clock.skew_ppm} ppm, ref ${r.clock.ref_s} s).`
      : 'B timestamps in this file are as B recorded them (not corrected).');
  }
  if (r.findings.length) lines.push(`Findings: ${r.findings.map((f, i) => `${i + 1}. ${f.title}`).join('; ')}`);
  for (const n of m.notes.session) lines.push(`Note: ${n.text}`);
  // Notes whose target is gone still travel with the file.
  for (const n of m.input.notes ?? []) {
    const t = n.target;
    const lost = (t.kind === 'packet' && !m.packet(t.capture, t.frame)) || (t.kind === 'finding' && !m.result.findings[t.index]?.evidence.length) ||
      (t.kind === 'checkpoint' && !m.checkpointByLabel.has(t.label));
    if (lost) lines.push(`Note (${describeTarget(t)}): ${n.text}`);
  }
  lines.push(`Generated ${m.generatedAt} by Tandem ${m.toolVersion}. Checkpoint comments name the original frame as capture#frame.`);
  return shown(lines.join('\n'));
}

/**
 * Writes the annotated pcapng as a sequence of byte chunks (concatenate or stream them to a file).
 * Packets come from `input.a/b.frames` (the original bytes); text imports are rebuilt with
 * synthesizeFrame and their interface says so.
 */
export function* annotatedPcapngChunks(input: ReportInput, opts: PcapngExportOptions = {}): Generator<Uint8Array> {
  const m = buildModel(input);
  const sides = opts.sides ?? ['A', 'B'];
  const corrected = sides.includes('B') && (opts.correctClock ?? (sides.length === 2 && m.result.clock.pairs > 0));
  const comments = packetComments(m);
  const w = new PcapngWriter({ comment: sessionComment(m, sides, corrected) });

  const entries: Entry[] = [];
  for (const side of sides) {
    const pk = m.capture(side).packets;
    for (let i = 0; i < pk.length; i++) {
      const p = pk.at(i)!;
      let sec = p.tsSec, nsec = p.tsNsec;
      if (side === 'B' && corrected) [sec, nsec] = correctToA(sec, nsec, m.clock);
      entries.push({ side, index: i, sec, nsec });
    }
  }
  // Stable: equal times keep A before B and file order within a host.
  if (sides.length > 1) entries.sort((x, y) => x.sec - y.sec || x.nsec - y.nsec || (x.side < y.side ? -1 : x.side > y.side ? 1 : x.index - y.index));

  const ifaceIds = new Map<string, number>();
  const ifaceFor = (side: CaptureSide, p: Packet, linktype: number, rebuilt: boolean): number => {
    const cap = m.capture(side);
    const known = cap.interfaces?.[p.ifaceId];
    const name = p.iface || known?.name || `if${p.ifaceId}`;
    const key = `${side}\u0000${name}\u0000${linktype}\u0000${rebuilt ? 1 : 0}`;
    let id = ifaceIds.get(key);
    if (id === undefined) {
      const what = rebuilt ? ', packets rebuilt from decoded fields (no original bytes)' : '';
      id = w.addInterface({
        name: visible(`${side}:${name}`),
        description: visible(`host ${side}, ${cap.name}, ${name}${what}`),
        linktype,
        snaplen: rebuilt ? SYNTH_SNAPLEN : known?.snaplen || 262144,
      });
      ifaceIds.set(key, id);
    }
    return id;
  };

  const every = Math.max(1, opts.chunkPackets ?? 4096);
  let n = 0;
  for (const e of entries) {
    const cap = m.capture(e.side);
    const p = cap.packets.at(e.index)!;
    const bytes = cap.frames?.[e.index];
    let data: Uint8Array, linktype: number, len: number, rebuilt = false, cut: string | undefined;
    if (bytes && bytes.length > 0) {
      data = bytes; linktype = cap.interfaces?.[p.ifaceId]?.linktype ?? p.linktype; len = Math.max(p.len, bytes.length);
    } else {
      const s = synthesizeFrame(p);
      data = s.data; linktype = s.linktype; len = s.len; rebuilt = true;
      // The length is the text's claim; the bytes are zeros cut at the snap length, and the packet says so.
      if (s.truncated) cut = `Tandem: synthesized from tcpdump text, which claims ${s.len} bytes; truncated to ${s.data.length} (zeros stand in for the payload)`;
    }
    const tandem = comments.get(packetKey(e.side, p.frame));
    const all = [...(p.comments ?? []), ...(tandem ?? []), ...(cut ? [cut] : [])];
    w.addPacket({
      ifaceId: ifaceFor(e.side, p, linktype, rebuilt),
      tsSec: e.sec,
      tsNsec: e.nsec,
      data,
      len,
      comments: all.length ? all : undefined,
      dir: p.dir === 'in' || p.dir === 'out' ? p.dir : undefined,
    });
    if (++n % every === 0) yield* w.drain();
  }
  yield* w.drain();
}

export function buildAnnotatedPcapng(input: ReportInput, opts: PcapngExportOptions = {}): Uint8Array {
  const parts = [...annotatedPcapngChunks(input, opts)];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
