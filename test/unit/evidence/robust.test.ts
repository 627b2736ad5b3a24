// Hostile and damaged pastes: every real fixture cut at many points, with CRLF, control bytes
// and junk lines mixed in. Parsing must never throw anything but the one "not a known output"
// error, must keep what came before the damage, and must stay fast on a huge paste.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { detectAndParse, EvidenceFormatError, parseAs, detectFormat } from '../../../shared/evidence/detect.ts';
import { runChecks } from '../../../shared/evidence/checks.ts';
import { addEvidence, emptyEvidence } from '../../../shared/evidence/detect.ts';
import { EVID, fx } from './helpers.ts';

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : [p]; });
const FILES = walk(EVID).filter((f) => /\.(txt|log|json)$/.test(f) && !f.endsWith('run.json')).map((f) => f.slice(EVID.length));

function count(facts: unknown): number {
  if (Array.isArray(facts)) return facts.length;
  const f = facts as Record<string, unknown>;
  if (Array.isArray(f.peers)) return (f.peers as unknown[]).length + (f.interfaces as unknown[]).length;
  if (Array.isArray(f.tables)) return (f.tables as Array<{ chains: Array<{ rules: unknown[] }> }>).reduce((n, t) => n + t.chains.reduce((m, c) => m + 1 + c.rules.length, 0), 0);
  if (Array.isArray(f.rows)) return (f.rows as unknown[]).length;
  if (f.values) return Object.keys(f.values).length;
  return 0;
}

test('every fixture cut anywhere parses without throwing and keeps a prefix of its facts', () => {
  let runs = 0;
  for (const rel of FILES) {
    const text = fx(rel);
    if (text.trim() === '') continue;
    const fmt = detectFormat(text);
    if (fmt === null) continue;
    const whole = count(parseAs(fmt, text).facts);
    for (let k = 1; k < 8; k++) {
      const cut = text.slice(0, Math.floor((text.length * k) / 8));
      const r = parseAs(fmt, cut);
      runs++;
      assert.ok(count(r.facts) <= whole + 1, `${rel} cut ${k}/8: no facts invented`);
      // JSON is all or nothing and a log's events may all lie after the cut; line formats keep what came before it.
      if (!/\.(?:json|log)$/.test(rel) && k >= 4 && whole >= 3) assert.ok(count(r.facts) >= 1, `${rel} cut ${k}/8: the start is kept`);
      for (const p of r.problems) assert.ok(p.line >= 1 && p.line <= cut.split('\n').length + 1, `${rel}: problem line in range`);
    }
  }
  assert.ok(runs > 300, `${runs} cut pastes`);
});

test('CRLF, terminal escapes, NUL and junk lines around real output change nothing but the problems', () => {
  for (const rel of ['wg/fw-drop/B/after-nft.txt', 'wg/fw-drop/B/wg-dump-after.txt', 'wg/fw-drop/B/ip-o-route-all.txt', 'ipsec/healthy/A-sas.txt', 'wg/ipt-drop/B/after-iptables.txt']) {
    const text = fx(rel);
    const clean = detectAndParse(text, rel);
    const noisy = '\u001b[01;32mroot@b\u001b[00m:~# \r\n' + text.replace(/\n/g, '\r\n').replace(/\r\n([^\r]*)\r\n/, '\r\n$1\r\n\u0000\u0007 junk line \u202e\r\n');
    const r = detectAndParse(noisy, rel);
    assert.equal(r.format, clean.format, rel);
    assert.equal(count(r.facts), count(clean.facts), rel);
    assert.ok(r.problems.length <= clean.problems.length + 1, rel);
  }
});

test('random bytes and binary files: one clear error, or facts with problems, never a crash', () => {
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 200; i++) {
    const n = rnd() % 3000;
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(rnd() % 3 === 0 ? 10 : 32 + (rnd() % 95));
    try { detectAndParse(s, 'junk.bin'); } catch (e) { assert.ok(e instanceof EvidenceFormatError, String(e)); }
  }
  // A parsed junk bundle must not break the checks either.
  const h = emptyEvidence();
  try { addEvidence(h, detectAndParse('wg0\tx\ty\tz\tq\n1: from 10.0.0.0/99 lookup main\n', 'junk')); } catch { /* fine */ }
  assert.doesNotThrow(() => runChecks(h, h, { proto: 'tcp', src: '10.0.0.1', dst: '192.168.200.22', dport: 80 }, { tunnel: 'wireguard' }));
});

test('a huge paste is bounded: lines beyond the limit are dropped and said, quickly', () => {
  const line = 'wg0\tFS4iITiwCwpby6dISIr0mM+x4aFu20GLOrEF8bUErlU=\t(none)\t(none)\t10.0.0.0/24\t0\t0\t0\toff\n';
  const big = line.repeat(150_000);
  const t0 = Date.now();
  const r = detectAndParse(big, 'big.txt');
  assert.ok(Date.now() - t0 < 8000, 'under 8 s');
  assert.ok(r.problems.some((p) => /more than \d+ lines/.test(p.message)));
  assert.equal(count(r.facts), 100_000);
  const wide = detectAndParse('net.ipv4.ip_forward = ' + '1'.repeat(50_000), 'wide.txt');
  assert.ok(wide.problems.some((p) => p.line === 1 && /cut/.test(p.message)));
});
