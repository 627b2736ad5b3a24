/// <reference lib="webworker" />
// The session worker: holds both captures of the open session in memory and does every long job
// off the UI thread: the two-host analysis (stored in Dexie), display filtering, exports and the
// re-decode with interface names. Cancel is done by the UI terminating this worker.

import { analyze } from '../../../shared/analysis/index.ts';
import type { AnalysisResult, CaptureInput } from '../../../shared/analysis/types.ts';
import { parseIpLink } from '../../../shared/capture-file/links.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';
import { decodeFrame } from '../../../shared/protocols/index.ts';
import { ChunkPackets, encodeChunk, fromStoredChunk, type LoadedChunk } from '../../../shared/ingest/packet-columns.ts';
import { columnFilter } from '../../../shared/filter/columns.ts';
import { buildAnnotatedPcapng, renderHtmlReport, renderJsonReport, renderMarkdownReport } from '../../../shared/report/index.ts';
import type { ReportCapture, ReportInput } from '../../../shared/report/types.ts';
import { toReportNote } from '../db/note-targets.ts';
import { chunkRange, openDb, type CaptureRecord, type HostSide } from '../db/schema.ts';
import type { ClockPairs, Conversation, ExportFormat, FromSessionWorker, SideTimes, SortKey, ToSessionWorker } from './session-messages.ts';
import { packetInfo } from '../../../shared/protocols/info.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { compileFilter } from '../../../shared/filter/index.ts';
import { checkpointLabelCache } from './checkpoint-labels.ts';
import { hostsEvidence } from '../../../shared/evidence/collect.ts';
import { visible } from '../../../shared/util/shell.ts';

declare const self: DedicatedWorkerGlobalScope;

const db = openDb();

/** The stored analysis's checkpoint labels, for checkpoint filters. */
const checkpointLabels = checkpointLabelCache({
  read: (id) => db.analyses.get(id),
  stamped: async (at) => (await db.analyses.where('updatedAt').equals(at).primaryKeys()) as number[],
});

interface Side {
  capture: CaptureRecord;
  /** The stored column chunks as they were read (one copy of every packet); packets are read-only views. */
  packets: ChunkPackets;
}

let sessionId = 0;
let sides: Partial<Record<HostSide, Side>> = {};
let loading: Promise<void> | null = null;
/** Origin of every time shown: A's first packet, to the nanosecond. */
let base = { sec: 0, nsec: 0 };
const rel = (p: Packet): number => p.tsSec - base.sec + (p.tsNsec - base.nsec) / 1e9;

function post(msg: FromSessionWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The capture used for each host: the newest usable one (cancelled, failed or importing ones are never analysed). */
async function sessionCaptures(id: number): Promise<Partial<Record<HostSide, CaptureRecord>>> {
  const all = (await db.captures.where('sessionId').equals(id).toArray()).filter((c) => c.status === 'complete' || c.status === 'partial');
  const out: Partial<Record<HostSide, CaptureRecord>> = {};
  for (const c of all) if (!out[c.host] || out[c.host]!.id < c.id) out[c.host] = c;
  return out;
}

/** Chunks per IndexedDB request: few round trips, and progress still moves on a big capture. */
const READ_BATCH = 48;

async function readPackets(c: CaptureRecord, onChunk: (n: number) => void): Promise<ChunkPackets> {
  const [lo, hi] = chunkRange(c.id);
  const keys = await db.packetChunks.where('[captureId+chunk]').between(lo, hi, true, true).primaryKeys();
  // Every batch asked for at once: IndexedDB reads the next ones while this thread takes in the
  // first. Column chunks are used as read (their buffers become the columns); old ones are converted.
  const batches: Array<Promise<LoadedChunk[]>> = [];
  for (let i = 0; i < keys.length; i += READ_BATCH) {
    const last = keys[Math.min(keys.length, i + READ_BATCH) - 1]!;
    batches.push(
      db.packetChunks.where('[captureId+chunk]').between(keys[i]!, last, true, true).toArray().then((recs) => {
        const out = recs.map(fromStoredChunk);
        onChunk(out.reduce((n, c) => n + c.length, 0));
        return out;
      }),
    );
  }
  return new ChunkPackets((await Promise.all(batches)).flat());
}

async function load(id: number): Promise<void> {
  const started = performance.now();
  sessionId = id;
  const caps = await sessionCaptures(id);
  const total = (caps.A?.packetCount ?? 0) + (caps.B?.packetCount ?? 0);
  let done = 0;
  let lastPost = 0;
  const next: Partial<Record<HostSide, Side>> = {};
  const progress = (n: number): void => {
    done += n;
    const now = performance.now();
    if (now - lastPost > 100) {
      lastPost = now;
      post({ type: 'progress', task: 'load', done, total });
    }
  };
  // Both hosts at once, for the same reason as the batches.
  await Promise.all((['A', 'B'] as const).map(async (host) => {
    const c = caps[host];
    if (c) next[host] = { capture: c, packets: await readPackets(c, progress) };
  }));
  sides = next;
  const first = next.A?.packets.at(0) ?? next.B?.packets.at(0);
  // The exact first packet, not its whole second: "since A's first packet" then reads 0.000000 on it.
  base = first ? { sec: first.tsSec, nsec: first.tsNsec } : { sec: 0, nsec: 0 };
  const baseSec = base.sec;
  // Straight from the time and length columns, which every row has (no packet views).
  const times = (s: Side | undefined): SideTimes | null => {
    if (!s) return null;
    const t = new Float64Array(s.packets.length);
    let maxLen = 0;
    let i = 0;
    for (const c of s.packets.chunks) {
      const { tsSec, tsNsec, len, n, isPlain } = c.cols;
      for (let k = 0; k < n; k++, i++) {
        // A plain row's own values may not fit 32 bits (that is why it is plain): read them from it.
        if (isPlain[k] === 1) {
          const p = c.at(k)!;
          t[i] = rel(p);
          if (p.len > maxLen) maxLen = p.len;
          continue;
        }
        t[i] = tsSec[k]! - base.sec + (tsNsec[k]! - base.nsec) / 1e9;
        if (len[k]! > maxLen) maxLen = len[k]!;
      }
    }
    return { captureId: s.capture.id, count: s.packets.length, times: t, maxLen };
  };
  const A = times(next.A);
  const B = times(next.B);
  const transfer: Transferable[] = [];
  if (A) transfer.push(A.times.buffer);
  if (B) transfer.push(B.times.buffer);
  post({ type: 'loaded', A, B, baseSec, baseNsec: base.nsec, ms: Math.round(performance.now() - started) }, transfer);
}

function captureInput(s: Side): CaptureInput {
  return {
    name: s.capture.fileName,
    packets: s.packets,
    interfaces: s.capture.interfaces.map((i) => ({ name: i.name, linktype: i.linktype })),
  };
}

async function runAnalysis(inputs: string, keepGivenRoles: boolean): Promise<void> {
  const started = performance.now();
  const settings = (await db.settings.get(sessionId)) ?? { sessionId, options: {} };
  const a = sides.A;
  const b = sides.B;
  if (!a || !b) return;
  post({ type: 'progress', task: 'analyze', done: 0, total: 1 });
  let result: AnalysisResult | undefined;
  let error: string | undefined;
  try {
    const opts: Parameters<typeof analyze>[2] = {};
    if (settings.options.flow?.trim()) opts.flow = settings.options.flow.trim();
    if (settings.options.clockOverride) opts.clockOverride = settings.options.clockOverride;
    if (keepGivenRoles) opts.keepGivenRoles = true;
    // Host evidence, keyed as the captures are stored (the engine moves it with its host on a role
    // swap), named as the CLI names files: visibly, since a name reaches every finding that quotes it.
    const texts = (h: HostSide) => (settings.evidence?.[h] ?? []).map((e) => ({ name: visible(e.name), text: e.text }));
    const evidence = hostsEvidence({ A: texts('A'), B: texts('B') }).evidence;
    if (evidence !== undefined) opts.evidence = evidence;
    result = analyze(captureInput(a), captureInput(b), opts);
  } catch (err) {
    error = errorText(err);
  }
  const ms = Math.round(performance.now() - started);
  await db.analyses.put({
    sessionId,
    status: result ? 'done' : 'failed',
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
    options: settings.options,
    inputs,
    ms,
    updatedAt: Date.now(),
  });
  // Written here: the next checkpoint filter reads the new labels without asking the index.
  checkpointLabels.drop();
  post({ type: 'progress', task: 'analyze', done: 1, total: 1 });
  post({ type: 'analyzed', ms, ...(error ? { error } : {}) });
}

/** Recent filter results (backspacing, toggling between two filters): valid for one load (and analysis, for checkpoint filters). */
const filterCache = new Map<string, { A: Uint32Array | null; B: Uint32Array | null; analysisAt: number | undefined }>();
let filterCacheKey = '';
const FILTER_CACHE_SIZE = 8;

async function runFilter(id: number, src: string): Promise<void> {
  const started = performance.now();
  const key = `${sides.A?.capture.id}:${sides.A?.packets.length}|${sides.B?.capture.id}:${sides.B?.packets.length}`;
  if (key !== filterCacheKey) {
    filterCache.clear();
    filterCacheKey = key;
  }
  const compiled = compileFilter(src);
  if (!compiled.ok) {
    post({ type: 'filtered', id, ok: false, error: compiled.error, at: compiled.at });
    return;
  }
  // Only a checkpoint filter needs the stored analysis (its labels), kept between filters while the
  // stored record stays the same (checkpoint-labels.ts); other filters do not read it at all.
  const labelled = compiled.fields.includes('checkpoint');
  const labels = labelled ? await checkpointLabels.get(sessionId) : undefined;
  const analysisAt = labels?.at;
  const hit = filterCache.get(src.trim());
  if (hit && hit.analysisAt === analysisAt) {
    filterCache.delete(src.trim());
    filterCache.set(src.trim(), hit);
    const A = hit.A?.slice() ?? null;
    const B = hit.B?.slice() ?? null;
    post({ type: 'filtered', id, ok: true, A, B, ms: Math.round(performance.now() - started) }, [A?.buffer, B?.buffer].filter((x) => x !== undefined));
    return;
  }
  // Checkpoint labels by frame, one context per labelled packet.
  const ctxs = labels?.ctxs ?? { A: new Map(), B: new Map() };
  // Leaves read the columns in place (shared/filter/columns.ts); rows become views only where a field needs one.
  const filter = columnFilter(src);
  const run = (host: HostSide): Uint32Array | null => {
    const s = sides[host];
    return s ? filter.run(s.packets, ctxs[host]) : null;
  };
  const A = run('A');
  const B = run('B');
  const ms = Math.round(performance.now() - started);
  filterCache.set(src.trim(), { A: A?.slice() ?? null, B: B?.slice() ?? null, analysisAt });
  if (filterCache.size > FILTER_CACHE_SIZE) filterCache.delete(filterCache.keys().next().value!);
  const transfer: Transferable[] = [];
  if (A) transfer.push(A.buffer);
  if (B) transfer.push(B.buffer);
  post({ type: 'filtered', id, ok: true, A, B, ms }, transfer);
}

// ---- sorting, conversations and cross-host pairs: passes over every packet, so they live here

function ifaceText(p: Packet): string {
  return p.iface || (p.ifindex !== undefined ? `if${p.ifindex}` : '');
}

/** Sort key of one packet: numbers compare as numbers, the rest as text. */
function sortValue(p: Packet, key: SortKey): number | string {
  switch (key) {
    case 'no': return p.frame;
    case 'time': return rel(p);
    case 'len': return p.len;
    case 'iface': return ifaceText(p);
    case 'src': return p.src ?? p.arp?.spa ?? '';
    case 'dst': return p.dst ?? p.arp?.tpa ?? '';
    case 'proto': return p.proto;
    case 'info': return packetInfo(p);
  }
}

function runSort(id: number, host: HostSide, key: SortKey, desc: boolean, rows: Uint32Array | null): void {
  const started = performance.now();
  const s = sides[host];
  if (!s) return;
  const ps = s.packets;
  const order = rows ? rows.slice() : Uint32Array.from({ length: ps.length }, (_, i) => i);
  const sign = desc ? -1 : 1;
  if (key === 'no' || key === 'time' || key === 'len') {
    const k = new Float64Array(ps.length);
    for (let i = 0; i < order.length; i++) k[order[i]!] = sortValue(ps.at(order[i]!)!, key) as number;
    // Ties keep file order, so a sort is stable and repeatable.
    order.sort((x, y) => (k[x]! - k[y]!) * sign || x - y);
  } else {
    const k: string[] = new Array<string>(ps.length);
    for (let i = 0; i < order.length; i++) k[order[i]!] = sortValue(ps.at(order[i]!)!, key) as string;
    // Addresses sort by their numeric value where both are IPv4; other text by code point.
    const num4 = key === 'src' || key === 'dst' ? ipv4Keys(k, order) : null;
    order.sort((x, y) => {
      if (num4) {
        const a = num4[x]!, b = num4[y]!;
        if (a >= 0 && b >= 0 && a !== b) return (a - b) * sign;
      }
      const a = k[x]!, b = k[y]!;
      return (a < b ? -1 : a > b ? 1 : 0) * sign || x - y;
    });
  }
  const pos = new Int32Array(ps.length).fill(-1);
  for (let i = 0; i < order.length; i++) pos[order[i]!] = i;
  post({ type: 'sorted', id, host, order, pos, ms: Math.round(performance.now() - started) }, [order.buffer, pos.buffer]);
}

function ipv4Keys(k: string[], rows: Uint32Array): Float64Array {
  const out = new Float64Array(k.length).fill(-1);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(k[r]!);
    if (m) out[r] = ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]);
  }
  return out;
}

const MAX_CONVERSATIONS = 300;

function conversationsOf(s: Side | undefined): Conversation[] {
  if (!s) return [];
  const byKey = new Map<string, Conversation>();
  for (const p of s.packets) {
    const src = p.src;
    const dst = p.dst;
    if (src === undefined || dst === undefined) continue;
    const proto = p.tcp ? 'tcp' : p.udp ? 'udp' : p.icmp ? (p.icmp.v === 6 ? 'icmpv6' : 'icmp') : p.esp ? 'esp' : p.proto;
    const sp = p.sport ?? null;
    const dp = p.dport ?? null;
    // One conversation for both directions: the lower endpoint first.
    const fwd = src < dst || (src === dst && (sp ?? 0) <= (dp ?? 0));
    const a = fwd ? src : dst, ap = fwd ? sp : dp, b = fwd ? dst : src, bp = fwd ? dp : sp;
    const key = `${proto} ${a} ${ap} ${b} ${bp}`;
    const t = rel(p);
    const c = byKey.get(key);
    if (c) {
      c.packets++;
      c.bytes += p.len;
      if (t < c.first) c.first = t;
      if (t > c.last) c.last = t;
    } else byKey.set(key, { proto, a, aPort: ap, b, bPort: bp, packets: 1, bytes: p.len, initiator: fwd ? 'a' : 'b', first: t, last: t });
  }
  return [...byKey.values()].sort((x, y) => y.packets - x.packets || x.first - y.first).slice(0, MAX_CONVERSATIONS);
}

function runConversations(id: number): void {
  const started = performance.now();
  const A = conversationsOf(sides.A);
  const B = conversationsOf(sides.B);
  post({ type: 'conversations', id, A, B, ms: Math.round(performance.now() - started) });
}

/** The identity a tunnel packet keeps across the path (NAT changes addresses and ports, never these). */
function carrierKey(p: Packet): string | null {
  if (p.wg) return `wg${p.wg.type}:${p.wg.sender ?? ''}:${p.wg.receiver ?? ''}:${p.wg.counter ?? ''}:${p.udp?.len ?? ''}`;
  if (p.esp) return `esp:${p.esp.spi}:${p.esp.seq}`;
  if (p.ike) return `ike:${p.ike.ispi}:${p.ike.rspi}:${p.ike.msgid}:${p.ike.flags ?? ''}:${p.udp?.len ?? ''}`;
  return null;
}

const MAX_CLOCK_PAIRS = 1500;

function runClockPairs(id: number): void {
  const started = performance.now();
  const a = sides.A;
  const b = sides.B;
  const empty: ClockPairs = { tA: new Float64Array(0), tB: new Float64Array(0), aToB: new Uint8Array(0), total: 0 };
  if (!a || !b) {
    post({ type: 'clockPairs', id, pairs: empty, ms: 0 });
    return;
  }
  // First sighting per identity on each host (a packet seen on two interfaces counts once).
  const inB = new Map<string, { t: number; dir: Packet['dir'] }>();
  for (const p of b.packets) {
    const k = carrierKey(p);
    if (k !== null && !inB.has(k)) inB.set(k, { t: rel(p), dir: p.dir });
  }
  // WireGuard: the index in a message's receiver field belongs to the host it is sent to, so the
  // senders of A's initiations (A's own indexes) tell which transport messages travel B → A.
  const aIndexes = new Set<number>();
  for (const p of a.packets) if (p.wg?.type === 1 && p.wg.sender !== undefined) aIndexes.add(p.wg.sender);
  const tA: number[] = [];
  const tB: number[] = [];
  const dirs: number[] = [];
  const seen = new Set<string>();
  for (const p of a.packets) {
    const k = carrierKey(p);
    if (k === null || seen.has(k)) continue;
    seen.add(k);
    const m = inB.get(k);
    if (!m) continue;
    let aToB: boolean | null = null;
    if (p.dir === 'out' || m.dir === 'in') aToB = true;
    else if (p.dir === 'in' || m.dir === 'out') aToB = false;
    else if (p.wg) aToB = p.wg.type === 1 ? true : p.wg.type === 2 ? false : p.wg.receiver !== undefined ? !aIndexes.has(p.wg.receiver) : null;
    else if (p.ike?.flags !== undefined) aToB = (p.ike.flags & 0x08) !== 0;
    if (aToB === null) continue;
    tA.push(rel(p));
    tB.push(m.t);
    dirs.push(aToB ? 1 : 0);
  }
  // Thinned evenly for the plot; the count of all pairs goes with it.
  const step = Math.max(1, Math.ceil(tA.length / MAX_CLOCK_PAIRS));
  const n = Math.ceil(tA.length / step);
  const pairs: ClockPairs = { tA: new Float64Array(n), tB: new Float64Array(n), aToB: new Uint8Array(n), total: tA.length };
  for (let i = 0, j = 0; i < tA.length; i += step, j++) {
    pairs.tA[j] = tA[i]!;
    pairs.tB[j] = tB[i]!;
    pairs.aToB[j] = dirs[i]!;
  }
  post({ type: 'clockPairs', id, pairs, ms: Math.round(performance.now() - started) }, [pairs.tA.buffer, pairs.tB.buffer, pairs.aToB.buffer]);
}

/** Raw bytes per packet from frameChunks, views into each chunk's buffer (no copies). */
async function readFrames(c: CaptureRecord): Promise<Uint8Array[]> {
  const [lo, hi] = chunkRange(c.id);
  const frames: Uint8Array[] = [];
  await db.frameChunks.where('[captureId+chunk]').between(lo, hi, true, true).each((rec) => {
    const all = new Uint8Array(rec.bytes);
    for (let i = 0; i + 1 < rec.offsets.length; i++) frames.push(all.subarray(rec.offsets[i]!, rec.offsets[i + 1]!));
  });
  return frames;
}

async function runExport(id: number, format: ExportFormat, title: string): Promise<void> {
  const started = performance.now();
  const a = sides.A;
  const b = sides.B;
  const analysis = await db.analyses.get(sessionId);
  if (!a || !b || !analysis?.result) throw new Error('export needs both captures and a finished analysis');
  const notes = (await db.notes.where('sessionId').equals(sessionId).toArray()).map(toReportNote);
  const side = async (s: Side, withFrames: boolean): Promise<ReportCapture> => ({
    name: s.capture.fileName,
    packets: s.packets,
    interfaces: s.capture.interfaces,
    ...(withFrames ? { frames: await readFrames(s.capture) } : {}),
  });
  const withFrames = format.startsWith('pcapng');
  const input: ReportInput = {
    a: await side(a, withFrames),
    b: await side(b, withFrames),
    result: analysis.result,
    notes,
    title,
    toolVersion: 'app',
  };
  const base = title.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'tandem';
  let data: Uint8Array | string;
  let mime: string;
  let name: string;
  switch (format) {
    case 'html': data = renderHtmlReport(input); mime = 'text/html'; name = `${base}.html`; break;
    case 'md': data = renderMarkdownReport(input); mime = 'text/markdown'; name = `${base}.md`; break;
    case 'json': data = renderJsonReport(input); mime = 'application/json'; name = `${base}.json`; break;
    case 'pcapng': data = buildAnnotatedPcapng(input); mime = 'application/vnd.tcpdump.pcap'; name = `${base}.pcapng`; break;
    case 'pcapng-A':
    case 'pcapng-B': {
      const side = format === 'pcapng-A' ? 'A' : 'B';
      data = buildAnnotatedPcapng(input, { sides: [side] });
      mime = 'application/vnd.tcpdump.pcap';
      name = `${base}-host-${side}.pcapng`;
      break;
    }
  }
  post({ type: 'exported', id, name, mime, data, ms: Math.round(performance.now() - started) }, typeof data === 'string' ? [] : [data.buffer]);
}

/**
 * Restores interface names of an SLL2 capture: every stored frame is decoded again with the
 * ifindex → name map and its packet chunk rewritten. Text imports have no bytes and stay as they are.
 */
async function relink(host: HostSide, text: string): Promise<void> {
  const started = performance.now();
  const names = parseIpLink(text);
  const caps = await sessionCaptures(sessionId);
  const c = caps[host];
  if (!c) throw new Error(`no capture for host ${host}`);
  const [lo, hi] = chunkRange(c.id);
  const keys = await db.packetChunks.where('[captureId+chunk]').between(lo, hi, true, true).primaryKeys();
  let done = 0;
  for (const key of keys) {
    const [pc, fc] = await Promise.all([db.packetChunks.get(key), db.frameChunks.get(key)]);
    if (!pc || !fc) continue;
    const bytes = new Uint8Array(fc.bytes);
    const stored = fromStoredChunk(pc);
    const packets = Array.from({ length: stored.length }, (_, i) => {
      const p = stored.at(i)!;
      const iface: CaptureInterface | undefined = c.interfaces[p.ifaceId];
      const data = bytes.subarray(fc.offsets[i]!, fc.offsets[i + 1]!);
      if (!iface || p.origin === 'text' || data.length === 0) return p;
      const raw: RawFrame = { frame: p.frame, offset: 0, ifaceId: p.ifaceId, tsSec: p.tsSec, tsNsec: p.tsNsec, caplen: p.caplen, len: p.len, data };
      if (p.comments) raw.comments = p.comments;
      const q = decodeFrame(raw, iface, { linkNames: names });
      // pcapng direction flags are not in the stored bytes: keep what the first decode found.
      if (q.dir === null && p.dir !== null) q.dir = p.dir;
      return q;
    });
    await db.packetChunks.put({ captureId: pc.captureId, chunk: pc.chunk, cols: encodeChunk(packets).chunk });
    done += packets.length;
    post({ type: 'progress', task: 'relink', done, total: c.packetCount });
  }
  await db.captures.update(c.id, { importedAt: Date.now() });
  post({ type: 'relinked', host, names: names.size, ms: Math.round(performance.now() - started) });
}

self.onmessage = (ev: MessageEvent<ToSessionWorker>) => {
  const msg = ev.data;
  const task = async (): Promise<void> => {
    switch (msg.type) {
      case 'open':
        loading = load(msg.sessionId);
        await loading;
        return;
      case 'analyze':
        await loading;
        await runAnalysis(msg.inputs, msg.keepGivenRoles === true);
        return;
      case 'filter':
        await loading;
        await runFilter(msg.id, msg.src);
        return;
      case 'export':
        await loading;
        await runExport(msg.id, msg.format, msg.title);
        return;
      case 'relink':
        await loading;
        await relink(msg.host, msg.text);
        return;
      case 'sort':
        await loading;
        runSort(msg.id, msg.host, msg.key, msg.desc, msg.rows);
        return;
      case 'conversations':
        await loading;
        runConversations(msg.id);
        return;
      case 'clockPairs':
        await loading;
        runClockPairs(msg.id);
        return;
    }
  };
  task().catch((err: unknown) => post({ type: 'error', task: msg.type, message: errorText(err) }));
};
