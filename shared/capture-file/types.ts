// The capture-file contract: what every reader (pcap, pcapng, gzip'd, tcpdump text) yields.
// Pure TypeScript: runs unchanged in a Web Worker, the Electron main process and Node.

/** One capture interface as the file describes it (pcapng IDB; one synthetic entry for pcap). */
export interface CaptureInterface {
  /** Position in the file's interface list (pcapng: IDB order across sections, 0-based). */
  id: number;
  /** if_name, or a name restored from `ip -o link` for SLL2, or '' when unknown. */
  name: string;
  description?: string;
  linktype: number;
  snaplen: number;
  /** Section (SHB) this interface belongs to, 0-based. */
  section: number;
}

/** One captured record, bytes not yet decoded. `data` may be a view into a shared buffer: copy it to keep it. */
export interface RawFrame {
  /** 1-based position in the file (Wireshark's frame number). */
  frame: number;
  /** Byte offset of the record in the (decompressed) file. */
  offset: number;
  /** Index into the file's interface list. */
  ifaceId: number;
  /** Whole seconds since the Unix epoch, UTC. */
  tsSec: number;
  /** Nanoseconds within the second, 0..999 999 999. */
  tsNsec: number;
  caplen: number;
  /** Original length on the wire. */
  len: number;
  data: Uint8Array;
  /** opt_comment values on the packet block. */
  comments?: string[];
  /** pcapng epb_flags (bits 0-1: direction 1 = in, 2 = out). */
  epbFlags?: number;
}

/** A recoverable or fatal problem met while reading. A fatal one ends the file; what was read stays. */
export interface CaptureProblem {
  fatal: boolean;
  /** Byte offset in the (decompressed) file where the problem starts. */
  offset: number;
  /** Short text, no file name, e.g. "truncated packet record (caplen 1514, 200 bytes left)". */
  message: string;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'tcpdump-text';
