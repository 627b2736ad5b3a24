// The capture helper: a small process that holds the capture privileges so the UI never does
// (Wireshark's dumpcap split). Started by the app or the CLI as
//   node helper.js '<CaptureOptions as JSON>'     or     node helper.js --list
// It writes length-prefixed messages (protocol.ts) to stdout and stops on SIGINT/SIGTERM, on a
// "stop" line on stdin, or when its stdin pipe closes (the parent went away).
//
// It may run on a runtime that holds CAP_NET_RAW/CAP_NET_ADMIN (privileges.ts), so it takes nothing
// but data: one argument that must be exactly the capture options (known keys, checked types) or
// --list, and on stdin only the word "stop". Nothing it receives is evaluated, imported or run, and
// it writes only the spool file named in the options, with the caller's own file permissions.
import { fstatSync } from 'node:fs';
import { listDevices } from './devices.ts';
import { encodeBatch, encodeEvent, type HelperEvent } from './protocol.ts';
import { CaptureError, CaptureSession, type CaptureOptions } from './session.ts';

function send(bytes: Uint8Array): void {
  // Pipes are synchronous on Linux: messages leave in order, and a batch is out before the next packet.
  process.stdout.write(bytes);
}
const event = (ev: HelperEvent) => send(encodeEvent(ev));

function fail(kind: string, message: string): never {
  event({ type: 'error', kind, message });
  process.exit(1);
}

function stdinIsPipe(): boolean {
  try { const st = fstatSync(0); return st.isFIFO() || st.isSocket(); } catch { return false; }
}

const NUMBER_KEYS = ['snaplen', 'bufferSize', 'maxPackets', 'maxSeconds', 'maxBytes', 'flushIntervalMs', 'batchPackets'] as const;
const KNOWN_KEYS = new Set<string>(['interfaces', 'filter', 'promiscuous', 'spoolPath', ...NUMBER_KEYS]);

/** Why `v` is not a plain CaptureOptions object (unknown keys and wrong types included), or null. */
function optionsProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length) return `unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')}`;
  if (!Array.isArray(o.interfaces) || !o.interfaces.every((i) => typeof i === 'string' && i.length > 0)) return 'interfaces must be a list of names';
  if (typeof o.spoolPath !== 'string' || o.spoolPath === '') return 'spoolPath must be a file path';
  if (o.filter !== undefined && typeof o.filter !== 'string') return 'filter must be text';
  if (o.promiscuous !== undefined && typeof o.promiscuous !== 'boolean') return 'promiscuous must be true or false';
  for (const k of NUMBER_KEYS) {
    if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isFinite(o[k]))) return `${k} must be a number`;
  }
  return null;
}

function main(argv: string[]): void {
  if (argv[0] === '--list') {
    if (argv.length !== 1) fail('options', 'The capture helper takes nothing after --list.');
    try { event({ type: 'devices', devices: listDevices() }); } catch (e) { fail('unavailable', (e as Error).message); }
    return;
  }
  if (argv.length !== 1) fail('options', 'The capture helper takes exactly one argument: its options as JSON, or --list.');
  let parsed: unknown;
  try { parsed = JSON.parse(argv[0]!); } catch { fail('options', 'The capture helper needs its options as one JSON argument.'); }
  const problem = optionsProblem(parsed);
  if (problem) fail('options', `The capture helper refused its options: ${problem}.`);
  const opts = parsed as CaptureOptions;
  let session: CaptureSession;
  try {
    session = CaptureSession.start({ ...opts, onBatch: (b) => send(encodeBatch(b.packets)) });
  } catch (e) {
    if (e instanceof CaptureError) fail(e.kind, e.message);
    fail('error', e instanceof Error ? e.message : String(e));
  }
  event({ type: 'started', interfaces: session.interfaces, warnings: session.warnings, spoolPath: opts.spoolPath });
  const statsTimer = setInterval(() => event({ type: 'stats', stats: session.getStats() }), 500);
  const stop = () => { void session.stop('stopped'); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (stdinIsPipe()) {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (s: string) => { if (/\bstop\b/.test(s)) stop(); });
    process.stdin.on('end', stop);
  }
  void session.done.then((summary) => {
    clearInterval(statsTimer);
    event({ type: 'end', summary });
    process.stdin.destroy();
    process.exit(0);
  });
}

main(process.argv.slice(2));
