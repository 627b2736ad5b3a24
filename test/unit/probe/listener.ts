// A TCP listener for the probe tests (run inside a namespace): accepts, answers HTTP, closes.
import { createServer } from 'node:net';

const [host, port] = process.argv.slice(2);
const server = createServer((s) => {
  s.on('error', () => undefined);
  s.on('data', () => s.end('HTTP/1.0 204 No Content\r\n\r\n'));
  setTimeout(() => s.destroy(), 2000).unref();
});
server.listen(Number(port), host, () => process.stdout.write('listening\n'));
