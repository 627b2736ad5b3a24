// Public API of the capture-file layer: read any capture a user brings, write annotated pcapng.

export type { CaptureFormat, CaptureInterface, CaptureProblem, RawFrame } from './types.ts';
export { readCapture } from './reader.ts';
export type { CaptureChunk, CaptureSource, CaptureSummary, ReadOptions } from './reader.ts';
export { PcapParser, isPcapMagic } from './pcap.ts';
export { PcapngParser, unitsToTime } from './pcapng.ts';
export type { NameRecord } from './pcapng.ts';
export { TcpdumpTextParser, splitEndpoint } from './tcpdump-text.ts';
export type { TextImportOptions, TimestampMode } from './tcpdump-text.ts';
export { parseIpLink, sll2InterfaceIndex, LINKTYPE_LINUX_SLL2 } from './links.ts';
export { PcapngWriter, synthesizeFrame, LINKTYPE_RAW } from './pcapng-writer.ts';
export type { WriterInterface, WriterPacket } from './pcapng-writer.ts';
