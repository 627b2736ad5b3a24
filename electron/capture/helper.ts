// The capture helper: a small process that holds the capture privileges so the UI never does
// (Wireshark's dumpcap split). Started by the app or the CLI as
//   node helper.js '<CaptureOptions as JSON>'     or     node helper.js --list
// It writes length-prefixed messages (protocol.ts) to stdout and stops on SIGINT/SIGTERM, on a
// "stop" line on stdin, or when its stdin pipe closes (the parent went away).
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

function main(argv: string[]): void {
  if (argv[0] === '--list') {
    try { event({ type: 'devices', devices: listDevices() }); } catch (e) { fail('unavailable', (e as Error).message); }
    return;
  }
  let opts: CaptureOptions;
  try { opts = JSON.parse(argv[0] ?? '') as CaptureOptions; } catch { fail('options', 'The capture helper needs its options as one JSON argument.'); }
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
