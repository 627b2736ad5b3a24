// One TCP test connection for the WireGuard lab:
//   node --import tsx tcp-pair.ts server HOST PORT   (answers one request, then exits)
//   node --import tsx tcp-pair.ts client HOST PORT   (sends a request, prints the reply)
import { createConnection, createServer } from 'node:net';

const [mode, host, portS] = process.argv.slice(2);
const port = Number(portS);
if (mode === 'server') {
  const srv = createServer((c) => {
    c.once('data', () => c.end('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    c.on('close', () => srv.close());
  });
  srv.listen(port, host, () => process.stdout.write('listening\n'));
} else {
  const c = createConnection({ host, port }, () => c.write('GET / HTTP/1.0\r\nhost: b\r\n\r\n'));
  let got = '';
  c.on('data', (d) => { got += d; });
  c.on('close', () => { process.stdout.write(got.split('\r\n')[0] + '\n'); });
  c.setTimeout(10_000, () => { process.stderr.write('timeout\n'); process.exit(1); });
}
