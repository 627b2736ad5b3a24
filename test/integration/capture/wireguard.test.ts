// The end-to-end check: both ends of a lab WireGuard connection captured from one
// `tandem capture` command (local cap capture on the tunnel and the veth, the far end's tcpdump
// -i any over SSH), then analysed with `tandem analyze`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCommand } from '../../../bin/cli/analyze.ts';
import type { AnalysisResult } from '../../../shared/analysis/types.ts';
import { cliScript, createLab, hasSshd, hasWireguard, readBack, repoRoot, skipReason, sleep, startSshd, startWireguard } from './lab.ts';

const skip = skipReason() ?? (hasSshd() ? null : 'openssh-server (/usr/sbin/sshd) is not installed')
  ?? (hasWireguard() ? null : 'wireguard-go, wg or /dev/net/tun is missing');
if (skip) console.log(`# skipping WireGuard two-ended capture: ${skip}`);

/** UDP payload of an Ethernet/IPv4 or SLL2/IPv4 frame, or null. */
function udpPayload(linktype: number, f: Uint8Array): { sport: number; dport: number; payload: Uint8Array } | null {
  const l2 = linktype === 1 ? 14 : linktype === 276 ? 20 : linktype === 101 ? 0 : -1;
  if (l2 < 0 || f.length < l2 + 28 || f[l2]! >> 4 !== 4 || f[l2 + 9] !== 17) return null;
  const u = l2 + (f[l2]! & 15) * 4;
  return { sport: (f[u]! << 8) | f[u + 1]!, dport: (f[u + 2]! << 8) | f[u + 3]!, payload: f.subarray(u + 8) };
}

test('one command captures both ends of a WireGuard connection and `tandem analyze` passes all its checkpoints', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const lab = createLab();
  const sshd = await startSshd(lab, lab.nsB, lab.addrB);
  const wg = await startWireguard(lab);
  try {
    const a = join(lab.dir, 'endpoint-a.pcapng'), b = join(lab.dir, 'host-b.pcapng');
    const server = lab.spawnIn(lab.nsB, [process.execPath, '--import', 'tsx', join(repoRoot, 'test/integration/capture/tcp-pair.ts'), 'server', wg.innerB, '8080']);
    const cli = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '--import', 'tsx', cliScript, '-i', wg.ifA, '-i', lab.ifA, '-w', a,
      '-f', 'udp port 51820 or tcp port 8080', '--remote', `root@${lab.addrB}:${sshd.port}`, '--remote-iface', 'any', '--remote-write', b,
      '--remote-key', sshd.key, '--remote-known-hosts', sshd.knownHosts], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let err = '';
    cli.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => cli.on('close', (c) => r(c)));
    for (let i = 0; i < 200 && !/capturing on/.test(err); i++) await sleep(50);
    assert.match(err, /capturing on/);
    const reply = lab.exec(lab.nsA, [process.execPath, '--import', 'tsx', join(repoRoot, 'test/integration/capture/tcp-pair.ts'), 'client', wg.innerB, '8080']);
    assert.equal(reply.trim(), 'HTTP/1.0 200 OK');
    await sleep(500);
    // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-cli.pid!, 'SIGINT');
    assert.equal(await exit, 0, err);
    server.kill();

    const ra = await readBack(readFileSync(a)), rb = await readBack(readFileSync(b));
    // A: raw IP on the tunnel, Ethernet on the veth, names kept. B: tcpdump -i any (SLL2) split per interface by name.
    assert.deepEqual(ra.interfaces.map((i) => [i.name, i.linktype]), [[wg.ifA, 101], [lab.ifA, 1]]);
    const bNames = rb.interfaces.map((i) => i.name);
    assert.ok(bNames.includes(wg.ifB) && bNames.includes(lab.ifB), `B interfaces: ${bNames.join(', ')}`);
    assert.ok(rb.interfaces.every((i) => i.linktype === 276));
    // The handshake initiation (type 1, 148 bytes) leaves A's veth and reaches B's; the response (type 2, 92 bytes) comes back.
    const wgMsgs = (r: typeof ra, name: string) => {
      const iface = r.interfaces.find((i) => i.name === name)!;
      return r.frames.filter((f) => f.ifaceId === iface.id).map((f) => udpPayload(iface.linktype, f.data)).filter((u) => u && (u.sport === 51820 || u.dport === 51820))
        .map((u) => `${u!.payload[0]}:${u!.payload.length}`);
    };
    for (const [r, name] of [[ra, lab.ifA], [rb, lab.ifB]] as const) {
      const m = wgMsgs(r, name);
      assert.ok(m.includes('1:148') && m.includes('2:92'), `${name}: ${m.join(' ')}`);
    }
    // Inner TCP packets: the same count in A's and B's tunnel interfaces.
    const inner = (r: typeof ra, name: string) => r.frames.filter((f) => f.ifaceId === r.interfaces.find((i) => i.name === name)!.id).length;
    assert.equal(inner(ra, wg.ifA), inner(rb, wg.ifB), `A ${ra.frames.length} frames, B ${rb.frames.length} frames; ${err}`);
    assert.ok(inner(ra, wg.ifA) >= 6, 'a whole TCP connection crossed the tunnel');
    // Raw-IP tunnel frames get their direction from the tunnel's own address.
    const tunA = ra.interfaces.find((i) => i.name === wg.ifA)!.id;
    for (const f of ra.frames.filter((x) => x.ifaceId === tunA)) assert.equal(f.epbFlags, f.data[15] === 1 ? 2 : 1, `frame ${f.frame}`);

    const json = join(lab.dir, 'analysis.json');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
    let code: number;
    try { code = await analyzeCommand([a, b, '--flow', `tcp ${wg.innerB}:8080`, '--json', json]); } finally { process.stdout.write = write; }
    assert.equal(code, 0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as AnalysisResult;
    console.log(`# analysis verdict: ${result.verdict.status} — ${result.verdict.summary}; checkpoints ${result.checkpoints.map((c) => c.label).join(' ')}`);
    // A healthy point-to-point tunnel: every checkpoint but the LAN ones (B5, B6), and an "ok" verdict.
    const labels = new Set(result.checkpoints.map((c) => c.label));
    for (const l of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B7', 'B8'] as const) assert.ok(labels.has(l), `checkpoint ${l} not found (${[...labels].join(' ')})`);
    assert.equal(result.variant.path, 'point-to-point');
    assert.equal(result.verdict.status, 'ok', result.verdict.summary);
  } finally { wg.stop(); sshd.stop(); lab.cleanup(); }
});
