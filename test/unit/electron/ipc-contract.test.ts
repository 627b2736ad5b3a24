// The shared IPC validators: what the main process accepts from an untrusted renderer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  channelOf,
  CHANNEL_PREFIX,
  IpcValidationError,
  isTrustedSenderUrl,
  MAX_SAVE_BYTES,
  OPERATIONS,
  validators,
} from '../../../shared/ipc/contract.ts';

const bytes = new TextEncoder().encode('hello');

test('every operation has a channel under the tandem: prefix and a validator', () => {
  for (const op of OPERATIONS) {
    assert.equal(channelOf(op), CHANNEL_PREFIX + op);
    assert.equal(typeof validators[op], 'function');
  }
  assert.equal(new Set(OPERATIONS.map(channelOf)).size, OPERATIONS.length);
});

test('app.info takes no arguments', () => {
  assert.deepEqual(validators['app.info']([]), []);
  assert.throws(() => validators['app.info']([1]), IpcValidationError);
});

test('file.save accepts a well-formed request and keeps the same bytes', () => {
  const [req] = validators['file.save']([
    { suggestedName: 'session-1.pcapng', data: bytes, filters: [{ name: 'pcapng', extensions: ['pcapng', 'pcap'] }] },
  ]);
  assert.equal(req.suggestedName, 'session-1.pcapng');
  assert.equal(req.data, bytes);
  assert.deepEqual(req.filters, [{ name: 'pcapng', extensions: ['pcapng', 'pcap'] }]);
});

test('file.save rejects wrong types', () => {
  const bad: unknown[][] = [
    [],
    [null],
    ['x.pcap'],
    [[{ suggestedName: 'a', data: bytes }]],
    [{ suggestedName: 42, data: bytes }],
    [{ suggestedName: 'a.pcap', data: 'not bytes' }],
    [{ suggestedName: 'a.pcap', data: Array.from(bytes) }],
    [{ suggestedName: 'a.pcap', data: bytes.buffer }],
    [{ suggestedName: 'a.pcap', data: bytes, filters: 'pcap' }],
    [{ suggestedName: 'a.pcap', data: bytes, filters: [{ name: 'x', extensions: 'pcap' }] }],
    [{ suggestedName: 'a.pcap', data: bytes, filters: [{ name: 'x', extensions: [7] }] }],
    [{ suggestedName: 'a.pcap', data: bytes, extra: true }],
    [{ suggestedName: 'a.pcap', data: bytes }, 'second argument'],
  ];
  for (const args of bad) {
    assert.throws(() => validators['file.save'](args), IpcValidationError, JSON.stringify(args));
  }
});

test('file.save refuses names that are paths or carry control characters', () => {
  for (const name of ['', '.', '..', '../etc/passwd', '/etc/passwd', 'a/b.pcap', 'a\\b.pcap', 'a\u0000b', 'line\nbreak', 'x'.repeat(256)]) {
    assert.throws(() => validators['file.save']([{ suggestedName: name, data: bytes }]), IpcValidationError, JSON.stringify(name));
  }
  // Spaces, dots and non-ASCII letters are ordinary file names.
  assert.equal(validators['file.save']([{ suggestedName: 'Café run 2.pcap', data: bytes }])[0].suggestedName, 'Café run 2.pcap');
});

test('file.save refuses data over the size limit', () => {
  // Zero-filled pages are mapped lazily, so this 1 GiB + 1 buffer costs almost no real memory.
  const over = new Uint8Array(MAX_SAVE_BYTES + 1);
  assert.throws(() => validators['file.save']([{ suggestedName: 'big.pcap', data: over }]), /too large/);
  const atLimit = over.subarray(0, MAX_SAVE_BYTES);
  assert.equal(validators['file.save']([{ suggestedName: 'big.pcap', data: atLimit }])[0].data.byteLength, MAX_SAVE_BYTES);
});

test('file.save refuses too many filters or bad extensions', () => {
  const many = Array.from({ length: 17 }, (_, i) => ({ name: `f${i}`, extensions: ['pcap'] }));
  assert.throws(() => validators['file.save']([{ suggestedName: 'a', data: bytes, filters: many }]), /at most 16/);
  for (const ext of ['', '.pcap', 'pc ap', 'a/b', 'x'.repeat(17)]) {
    assert.throws(
      () => validators['file.save']([{ suggestedName: 'a', data: bytes, filters: [{ name: 'x', extensions: [ext] }] }]),
      IpcValidationError,
      JSON.stringify(ext),
    );
  }
});

test('file.open accepts nothing, an empty request, or filters + multiple', () => {
  assert.deepEqual(validators['file.open']([]), [{}]);
  assert.deepEqual(validators['file.open']([{}]), [{}]);
  assert.deepEqual(validators['file.open']([{ multiple: true, filters: [{ name: 'Captures', extensions: ['pcap', 'pcapng', '*'] }] }]), [
    { multiple: true, filters: [{ name: 'Captures', extensions: ['pcap', 'pcapng', '*'] }] },
  ]);
  for (const args of [[null], [{ multiple: 'yes' }], [{ path: '/etc/passwd' }], [{}, {}]]) {
    assert.throws(() => validators['file.open'](args), IpcValidationError, JSON.stringify(args));
  }
});

test('objects with a foreign prototype are refused', () => {
  class Sneaky {
    suggestedName = 'a.pcap';
    data = bytes;
  }
  assert.throws(() => validators['file.save']([new Sneaky()]), IpcValidationError);
});

test('only our own app://tandem pages are trusted senders', () => {
  for (const url of ['app://tandem/', 'app://tandem/index.html', 'app://tandem/index.html#/sessions/3', 'app://tandem']) {
    assert.equal(isTrustedSenderUrl(url), true, url);
  }
  for (const url of [
    undefined,
    '',
    'about:blank',
    'file:///work/main/out/renderer/index.html',
    'http://tandem/',
    'https://tandem/index.html',
    'app://tandem.evil.example/',
    'app://evil/tandem/',
    'app://tandem:8080/',
    'app://user:pw@tandem/',
    'devtools://devtools/bundled/inspector.html',
    'data:text/html,<script>1</script>',
    'not a url',
  ]) {
    assert.equal(isTrustedSenderUrl(url), false, String(url));
  }
});

test('capture.start keeps a well-formed request and refuses odd shapes', () => {
  const good = { interfaces: ['eth0', 'wg0'], filter: 'udp port 51820 or\ttcp', snaplen: 262144, promiscuous: false, maxPackets: 10, maxSeconds: 5, maxBytes: 1e6 };
  assert.deepEqual(validators['capture.start']([good]), [good]);
  const minimal = { interfaces: ['any'], filter: '', snaplen: 96, promiscuous: true };
  assert.deepEqual(validators['capture.start']([minimal]), [minimal]);
  const bad: unknown[] = [
    { ...minimal, interfaces: [] },
    { ...minimal, interfaces: ['eth0', 'eth0'] },
    { ...minimal, interfaces: ['../../etc/passwd'] },
    { ...minimal, interfaces: ['-i'] },
    { ...minimal, interfaces: [7] },
    { ...minimal, interfaces: Array.from({ length: 17 }, (_, i) => `veth${i}`) },
    { ...minimal, filter: 'udp\u0000' },
    { ...minimal, filter: 'x'.repeat(4097) },
    { ...minimal, filter: undefined },
    { ...minimal, snaplen: 0 },
    { ...minimal, snaplen: 1.5 },
    { ...minimal, snaplen: '65535' },
    { ...minimal, promiscuous: 'yes' },
    { ...minimal, maxPackets: -1 },
    { ...minimal, maxSeconds: Infinity },
    { ...minimal, extra: 1 },
    ['eth0'],
    null,
  ];
  for (const v of bad) assert.throws(() => validators['capture.start']([v]), IpcValidationError, JSON.stringify(v));
  assert.throws(() => validators['capture.start']([]), IpcValidationError);
  assert.throws(() => validators['capture.start']([minimal, minimal]), IpcValidationError);
});

test('capture.stop takes one capture id; capture.devices none; report.pdf one html string', () => {
  assert.deepEqual(validators['capture.stop'](['3f2b8c1e-1111-4a4a-9b9b-0123456789ab']), ['3f2b8c1e-1111-4a4a-9b9b-0123456789ab']);
  for (const v of ['', '../x', 'a b', 7, 'x'.repeat(65)]) assert.throws(() => validators['capture.stop']([v]), IpcValidationError, String(v));
  assert.deepEqual(validators['capture.devices']([]), []);
  assert.throws(() => validators['capture.devices'](['eth0']), IpcValidationError);
  assert.deepEqual(validators['report.pdf']([{ html: '<p>x</p>' }]), [{ html: '<p>x</p>' }]);
  for (const v of [{ html: '' }, { html: 1 }, { html: '<p>', url: 'https://x' }, '<p>']) {
    assert.throws(() => validators['report.pdf']([v]), IpcValidationError, JSON.stringify(v));
  }
});

test('capture.startPaired keeps a well-formed far end and validates the local half as capture.start does', () => {
  const local = { interfaces: ['eth0'], filter: 'udp port 51820', snaplen: 65535, promiscuous: true, maxSeconds: 60 };
  const remote = { host: 'gw-b.example.net', user: 'ops', port: 2222, identityFile: '/home/me/.ssh/id_ed25519', interface: 'any', filter: 'udp port 51820', sudo: true };
  assert.deepEqual(validators['capture.startPaired']([{ local, remote }]), [{ local, remote }]);
  // Optional fields may be left out (ssh config, agent and default port then apply).
  for (const host of ['10.0.0.2', 'peer', 'fe80::1', 'fe80::1%eth0', '2001:db8::22', 'host_alias', 'b.example.']) {
    const minimal = { host, interface: 'wg0', filter: '', sudo: false };
    assert.deepEqual(validators['capture.startPaired']([{ local, remote: minimal }]), [{ local, remote: minimal }], host);
  }
  assert.throws(() => validators['capture.startPaired']([{ local: { ...local, interfaces: [] }, remote }]), /capture\.start: interfaces/);
});

test('capture.startPaired refuses far ends that could inject ssh or tcpdump options, or odd values', () => {
  const local = { interfaces: ['eth0'], filter: '', snaplen: 65535, promiscuous: true };
  const remote = { host: 'peer', user: 'root', port: 22, identityFile: '/root/.ssh/id', interface: 'any', filter: '', sudo: false };
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['option as host', { host: '-oProxyCommand=touch /tmp/pwned' }, /host must not start with "-"/],
    ['option as host, short', { host: '-F/tmp/cfg' }, /host must not start with "-"/],
    ['option as user', { user: '-oProxyCommand=x' }, /user must be a user name/],
    ['user with @', { user: 'a@b' }, /user must be a user name/],
    ['host with user', { host: 'root@peer' }, /host is not a host name/],
    ['host with space', { host: 'peer -p 1' }, /host is not a host name/],
    ['host with newline', { host: 'peer\nProxyCommand x' }, /host is not a host name/],
    ['host with NUL', { host: 'peer\u0000' }, /host is not a host name/],
    ['empty host', { host: '' }, /host must be/],
    ['long host', { host: 'a'.repeat(254) }, /host must be/],
    ['ssh URI', { host: 'ssh://peer' }, /host is not a host name/],
    ['relative key path', { identityFile: 'id_ed25519' }, /identityFile must be an absolute path/],
    ['home-relative key path', { identityFile: '~/.ssh/id' }, /identityFile must be an absolute path/],
    ['key path as option', { identityFile: '-oProxyCommand=x' }, /identityFile must be an absolute path/],
    ['key path with control char', { identityFile: '/root/.ssh/id\u0007' }, /identityFile must not contain control characters/],
    ['key path with newline', { identityFile: '/root/.ssh/id\nx' }, /identityFile must not contain control characters/],
    ['key path climbing', { identityFile: '/root/../etc/shadow' }, /identityFile must not contain "\.\."/],
    ['port 0', { port: 0 }, /port must be a whole number from 1 to 65535/],
    ['port 70000', { port: 70000 }, /port must be a whole number from 1 to 65535/],
    ['port as text', { port: '22' }, /port must be a whole number/],
    ['port fraction', { port: 22.5 }, /port must be a whole number/],
    ['interface as option', { interface: '-w/tmp/x' }, /interface is not an interface name/],
    ['filter as option', { filter: '-w /tmp/x' }, /filter must not start with "-"/],
    ['filter as option after spaces', { filter: '  -z x' }, /filter must not start with "-"/],
    ['filter with control char', { filter: 'udp\u0001' }, /filter must not contain control characters/],
    ['sudo as text', { sudo: 'yes' }, /sudo must be a boolean/],
    ['password field', { password: 'hunter2' }, /unexpected field "password"/],
    ['passphrase field', { passphrase: 'x' }, /unexpected field "passphrase"/],
  ];
  for (const [name, change, re] of bad) {
    assert.throws(() => validators['capture.startPaired']([{ local, remote: { ...remote, ...change } }]), (e: Error) => {
      assert.ok(e instanceof IpcValidationError, name);
      assert.match(e.message, re, name);
      return true;
    });
  }
  for (const args of [[], [{ local }], [{ remote }], [{ local, remote, extra: 1 }], [{ local, remote }, 'x'], [null]]) {
    assert.throws(() => validators['capture.startPaired'](args), IpcValidationError, JSON.stringify(args));
  }
});
