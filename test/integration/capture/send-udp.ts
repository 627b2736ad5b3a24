// Traffic source for the capture tests, run inside a test namespace:
//   node --import tsx send-udp.ts HOST PORT COUNT [INTERVAL_MS] [BURST]
// Sends COUNT datagrams with payload sizes cycling through 1..1400 bytes so byte totals are meaningful.
// INTERVAL_MS 0 sends as fast as the socket accepts (the flood measurement), BURST per send tick.
import { createSocket } from 'node:dgram';

const [host, portS, countS, intervalS, burstS] = process.argv.slice(2);
const port = Number(portS), count = Number(countS), interval = Number(intervalS ?? 0), burst = Number(burstS ?? 1);
const sock = createSocket('udp4');
const payload = Buffer.alloc(1400, 0x61);
let sent = 0;
let inflight = 0;

function size(i: number): number { return 1 + ((i * 97) % 1400); }

function tick(): void {
  for (let k = 0; k < burst && sent < count; k++) {
    const i = sent++;
    inflight++;
    sock.send(payload, 0, size(i), port, host, () => {
      inflight--;
      if (sent >= count && inflight === 0) sock.close(() => process.stdout.write(`sent ${count}\n`));
    });
  }
  if (sent < count) {
    if (interval > 0) setTimeout(tick, interval);
    else if (inflight > 256) setImmediate(tick);
    else tick();
  }
}
tick();
