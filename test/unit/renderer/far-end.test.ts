// The capture dialog's far-end fields: what the user types becomes the request the main process
// accepts, or one sentence saying what is wrong (the main process validates again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validators } from '../../../shared/ipc/contract.ts';
import { checkKeyPath, destinationLabel, FAR_END_FAILURE_TITLES, parseDestination, remoteRequest } from '../../../renderer/src/features/capture/far-end.ts';

test('destinations: user@host[:port], bracketed or bare IPv6, ssh_config aliases', () => {
  assert.deepEqual(parseDestination('ops@gw-b.example:2222'), { host: 'gw-b.example', user: 'ops', port: 2222 });
  assert.deepEqual(parseDestination('  root@10.0.0.2 '), { host: '10.0.0.2', user: 'root' });
  assert.deepEqual(parseDestination('peer'), { host: 'peer' });
  assert.deepEqual(parseDestination('root@[2001:db8::2]:22'), { host: '2001:db8::2', user: 'root', port: 22 });
  assert.deepEqual(parseDestination('fe80::1%eth0'), { host: 'fe80::1%eth0' });
  for (const d of [{ host: 'gw-b.example', user: 'ops', port: 2222 }, { host: '2001:db8::2', user: 'root', port: 22 }, { host: 'peer' }]) {
    const label = destinationLabel({ ...d, interface: 'any', filter: '', sudo: false });
    assert.deepEqual(parseDestination(label), d, label);
  }
});

test('destinations that ssh could read as options, or that are not names, get a sentence', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^Enter the far end/],
    ['-oProxyCommand=touch /tmp/x', /^The host must not start with "-"\.$/],
    ['ops@-oProxyCommand=x', /^The host must not start with "-"\.$/],
    ['-l@peer', /^The user must be a user name/],
    ['ops@peer:0', /^The port must be from 1 to 65535\.$/],
    ['ops@peer:70000', /^The port must be from 1 to 65535\.$/],
    ['ops@peer:ssh', /is not a port number/],
    ['ops@pe er', /^The host is not a host name/],
    ['ops@peer\u0007', /^The host is not a host name/],
  ];
  for (const [text, re] of cases) {
    const r = parseDestination(text);
    assert.ok('error' in r, text);
    assert.match(r.error, re, text);
  }
});

test('key files: empty means agent or default keys, otherwise an absolute path', () => {
  assert.equal(checkKeyPath(''), '');
  assert.equal(checkKeyPath(' /home/ops/.ssh/id_ed25519 '), '/home/ops/.ssh/id_ed25519');
  for (const bad of ['id_ed25519', '~/.ssh/id', './id', '/home/ops/\n.ssh/id']) {
    const r = checkKeyPath(bad);
    assert.equal(typeof r, 'object', bad);
  }
});

test('the form builds a request the main process accepts as is, and every failure kind has a heading', () => {
  const dest = parseDestination('ops@gw-b.example:2222');
  assert.ok(!('error' in dest));
  const remote = remoteRequest(dest, '/home/ops/.ssh/id_ed25519', 'eth0', 'udp port 51820', true);
  const local = { interfaces: ['wg0'], filter: 'udp port 51820', snaplen: 262144, promiscuous: true };
  assert.deepEqual(validators['capture.startPaired']([{ local, remote }]), [{ local, remote }]);
  assert.deepEqual(Object.keys(FAR_END_FAILURE_TITLES).sort(), ['auth', 'failed', 'filter', 'host-key', 'interface', 'no-tcpdump', 'permission', 'unreachable']);
});
