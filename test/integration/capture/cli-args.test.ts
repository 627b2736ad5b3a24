// `tandem capture` option parsing (no capture, no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureArgs } from '../../../bin/cli/capture.ts';
import { UsageError } from '../../../bin/cli/io.ts';

test('tcpdump-style options: repeatable -i, filter from -f or trailing words, limits', () => {
  const a = parseCaptureArgs(['-i', 'wg0', '-i', 'wlan0', '-w', 'a.pcapng', '-c', '100', '-G', '2.5', '--snaplen', '128', '--no-promisc', 'udp', 'port', '51820']);
  assert.deepEqual(a.options, {
    interfaces: ['wg0', 'wlan0'], spoolPath: 'a.pcapng', filter: 'udp port 51820', promiscuous: false, maxPackets: 100, maxSeconds: 2.5, snaplen: 128,
  });
  assert.equal(a.remote, undefined);
  assert.equal(parseCaptureArgs(['-i', 'any', '-f', 'host 192.168.200.22', '-w', 'x']).options.filter, 'host 192.168.200.22');
  assert.equal(parseCaptureArgs(['--list']).list, true);
});

test('remote target parsing and the remote filter default', () => {
  const a = parseCaptureArgs(['-i', 'wg0', '-w', 'a.pcapng', '-f', 'udp port 51820', '--remote', 'admin@[2001:db8::2]:2200', '--remote-iface', 'eth0', '--remote-write', 'b.pcapng', '--remote-key', 'k']);
  assert.equal(a.remote?.user, 'admin');
  assert.equal(a.remote?.host, '2001:db8::2');
  assert.equal(a.remote?.port, 2200);
  assert.equal(a.remote?.filter, 'udp port 51820');
  assert.equal(a.remote?.identityFile, 'k');
  assert.equal(parseCaptureArgs(['-i', 'x', '-w', 'y', '--remote', 'host-b', '--remote-iface', 'eth1', '--remote-write', 'z']).remote?.host, 'host-b');
});

test('usage errors are one line each', () => {
  const bad: [string[], RegExp][] = [
    [['-w', 'a.pcapng'], /at least one -i/],
    [['-i', 'eth0'], /needs -w/],
    [['-i', 'eth0', '-w', 'a', '-c', '0'], /-c needs a positive integer/],
    [['-i', 'eth0', '-w', 'a', '-c', '1.5'], /-c needs a positive integer/],
    [['-i', 'eth0', '-w', 'a', '-G'], /-G needs a value/],
    [['-i', 'eth0', '-w', 'a', '-x'], /unknown option -x/],
    [['-i', 'eth0', '-w', 'a', '-f', 'udp', 'tcp'], /either with -f or as trailing words/],
    [['-i', 'eth0', '-w', 'a', '--remote', 'h'], /--remote-iface IFACE and --remote-write FILE/],
  ];
  for (const [argv, re] of bad) assert.throws(() => parseCaptureArgs(argv), (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'), argv.join(' '));
});
