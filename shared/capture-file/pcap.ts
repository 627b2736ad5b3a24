// Classic libpcap files: 24-byte file header, then 16-byte record headers each followed by caplen bytes.
// Microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magics, either byte order, and the "modified"
// Kuznetzov variant (a1b2cd34) whose record headers are 24 bytes.

import type { CaptureInterface, CaptureProblem, RawFrame } from './types.ts';
import type { RecordParser, RecordSink } from './record-parser.ts';

/** Larger than any snaplen libpcap or dumpcap writes for common link types: beyond it a record header is garbage. */
export const MAX_PLAUSIBLE_CAPLEN = 262144;

/** A snaplen above the standard maximum is honoured up to this size (D-Bus, USB captures). */
export const MAX_DECLARED_CAPLEN = 16 * 1024 * 1024;

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/** True when the first four bytes are a pcap magic in either byte order. */
export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const le = ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED]) if (be === m || le === m) return true;
  return false;
}

export class PcapParser implements RecordParser {
  interfaces: CaptureInterface[] = [];
  problems: CaptureProblem[] = [];
  sectionComments: string[] = [];
  failed = false;
  need = 24;
  readonly sinks = true;
  taken = 0;
  private headerDone = false;
  private le = true;
  private nano = false;
  private hdrLen = 16;
  private frameNo = 0;
  private snaplen = 0;
  private warnedLen = false;
  private warnedTs = false;

  parse(buf: Uint8Array, pos: number, end: number, base: number, out: RawFrame[], limit: number, sink?: RecordSink): number {
    this.taken = 0;
    if (this.failed) return pos;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (!this.headerDone) {
      if (end - pos < 24) { this.need = 24; return pos; }
      const magicBe = dv.getUint32(pos, false);
      let magic: number;
      if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS || magicBe === PCAP_MAGIC_MODIFIED) { this.le = false; magic = magicBe; }
      else { this.le = true; magic = dv.getUint32(pos, true); }
      this.nano = magic === PCAP_MAGIC_NS;
      this.hdrLen = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
      this.snaplen = dv.getUint32(pos + 16, this.le);
      // The upper bits of the link-type field carry the FCS length flag; libpcap masks them off.
      const linktype = dv.getUint32(pos + 20, this.le) & 0x03ffffff;
      this.interfaces.push({ id: 0, name: '', linktype, snaplen: this.snaplen, section: 0 });
      this.headerDone = true;
      pos += 24;
    }
    const le = this.le;
    const hdrLen = this.hdrLen;
    const scale = this.nano ? 1 : 1000;
    const iface = this.interfaces[0]!;
    while (out.length + this.taken < limit) {
      if (end - pos < hdrLen) { this.need = hdrLen; return pos; }
      const caplen = dv.getUint32(pos + 8, le);
      const len = dv.getUint32(pos + 12, le);
      if (caplen > MAX_PLAUSIBLE_CAPLEN && (caplen > this.snaplen || caplen > MAX_DECLARED_CAPLEN)) {
        this.fail(base + pos, `bad packet record: caplen ${caplen} is larger than any plausible snapshot length`);
        return pos;
      }
      if (caplen > len && !this.warnedLen) {
        // libpcap, tcpdump and Wireshark all accept such records; keep them and say so once.
        this.warnedLen = true;
        this.problems.push({ fatal: false, offset: base + pos, message: `caplen ${caplen} exceeds original length ${len} (frame ${this.frameNo + 1}; kept)` });
      }
      const total = hdrLen + caplen;
      if (end - pos < total) { this.need = total; return pos; }
      let sec = dv.getUint32(pos, le);
      let frac = dv.getUint32(pos + 4, le);
      // An out-of-range fraction is carried into the seconds rather than rejected.
      const unit = this.nano ? 1e9 : 1e6;
      if (frac >= unit) {
        if (!this.warnedTs) {
          this.warnedTs = true;
          this.problems.push({ fatal: false, offset: base + pos, message: `invalid fraction of a second ${frac} (frame ${this.frameNo + 1}); carried into the seconds` });
        }
        sec += Math.floor(frac / unit);
        frac %= unit;
      }
      const start = pos + hdrLen;
      if (sink !== undefined) {
        sink.record(buf, start, ++this.frameNo, base + pos, iface, sec, frac * scale, caplen, len);
        this.taken++;
        pos += total;
        continue;
      }
      out.push({
        frame: ++this.frameNo,
        offset: base + pos,
        ifaceId: 0,
        tsSec: sec,
        tsNsec: frac * scale,
        caplen,
        len,
        data: buf.subarray(start, start + caplen),
      });
      pos += total;
    }
    this.need = hdrLen;
    return pos;
  }

  finish(pos: number, end: number, base: number): void {
    if (this.failed) return;
    if (!this.headerDone) {
      this.fail(base + pos, `truncated pcap file header (${end - pos} of 24 bytes)`);
    } else if (end > pos) {
      this.fail(base + pos, end - pos < this.hdrLen
        ? `truncated packet record header (${end - pos} of ${this.hdrLen} bytes)`
        : `truncated packet record (needs ${this.need - this.hdrLen} bytes of data, ${end - pos - this.hdrLen} left)`);
    }
  }

  private fail(offset: number, message: string): void {
    this.failed = true;
    this.problems.push({ fatal: true, offset, message });
  }
}
