// IKE stage rules (IPsec only): judge the exchange that fails, not the first one. Both captures
// separate "the message never reaches B" (path, firewall, NAT-T) from "B receives it and refuses"
// (configuration: pre-shared key, proposals, identities, traffic selectors), and each finding
// says whose IKE log to read and what to search for there (strongSwan charon, libreswan/Openswan pluto).
// The Openswan stages: (a) no answer at all — the generic missing-B1/B2/A3 rules; (b) main mode's
// MI3 repeated — ike-v1-mi3-refused / ike-v1-mi3-lost; (c) quick mode never completes —
// ike-v1-quick-incomplete; (d) SAs up, no traffic — ike-sa-up-no-esp.

import { code as c, ev, type Facts } from '../facts.ts';
import type { CheckpointLabel, Finding } from '../types.ts';
import {
  arrived, ikeModel, IKE_AUTH, IKE_SA_INIT, NOTIFY_NAME, notifyOnly, N_INVALID_ID_INFORMATION, N_INVALID_KE_PAYLOAD, N_NO_PROPOSAL_CHOSEN, N_COOKIE,
  V1_AGGRESSIVE, V1_INFO, V1_MAIN, V1_QUICK, type IkeMsg, type IkeModel,
} from '../tunnels/ike-stages.ts';
import { registerRule } from './registry.ts';
import { proseData } from '../../util/shell.ts';

const GENERIC = ['missing-a4', 'missing-b1', 'missing-a3', 'missing-b3'] as const;

const evOf = (f: Facts, xs: Array<IkeMsg | undefined>): Finding['evidence'] => {
  const out: Finding['evidence'] = [];
  for (const x of xs) if (x !== undefined && !out.some((e) => e.capture === x.side.key && e.frame === x.p.frame)) out.push(ev(x.side, x.r));
  return out;
};

/** No ESP left A for the flow (and none arrived at B): nothing was negotiated that carries it. */
const noEsp = (f: Facts): boolean => !(f.A.outerKinds.has('esp') && f.A.outer.some((r) => r.outer === 'esp' && r.dir === 'out')) && !f.B.outerKinds.has('esp');

const model = (f: Facts): IkeModel => ikeModel(f.A, f.B);
const where = (f: Facts): CheckpointLabel | null => f.firstMissing;
const portWord = (x: IkeMsg): string => (x.port !== undefined ? `UDP ${x.port}` : 'UDP');

// ---- Both versions: (a) the first message is never answered.

/** A's opening IKE message (IKE_SA_INIT, MI1, AI1) with no answer in either capture. */
function unanswered(f: Facts): { sends: IkeMsg[]; atB: IkeMsg[] } | null {
  const m = model(f);
  if (m.version === null) return null;
  const opening = (x: IkeMsg): boolean => x.fromA && !x.response && (x.version === 2 ? x.exchange === IKE_SA_INIT : x.exchange === V1_MAIN || x.exchange === V1_AGGRESSIVE);
  const sends = m.a.filter(opening);
  if ([...m.a, ...m.b].some((x) => !x.fromA)) return null;
  if (sends.length === 0) return null;
  return { sends, atB: m.b.filter(opening) };
}

registerRule({
  id: 'ike-no-answer', sign: 'Openswan (a): A\'s first IKE message (IKE_SA_INIT, MI1) is never answered; B\'s capture tells path from B',
  classes: ['firewall-or-routing', 'ipsec-config'], host: 'path (B when B receives it)', evidence: 'A\'s retries and their copies at B',
  tunnels: ['ipsec'], withoutFlow: true, overrides: ['missing-b1', 'missing-b2'],
  applies: (f) => (f.firstMissing === 'B1' || f.firstMissing === 'B2' || f.T === null) && unanswered(f) !== null,
  evaluate: (f) => {
    const u = unanswered(f)!;
    const first = u.sends[0]!;
    const reached = u.atB.length > 0;
    const tries = u.sends.length > 1 ? ` (${u.sends.length} tries)` : '';
    if (reached) {
      return [{
        rule: 'ike-no-answer', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
        title: `B receives A's ${first.version === 2 ? 'IKE_SA_INIT' : 'first main-mode message'}${tries} and never answers`,
        detail: 'The request reaches B (its capture shows it) and B stays silent: no connection on B matches A\'s address or IKE version, or the IKE daemon is not running there. Configuration or state on B, not the path.',
        evidence: evOf(f, [first, ...u.atB.slice(0, 3)]),
        next_steps: [
          'On B: charon logs "no IKE config found for …, sending NO_PROPOSAL_CHOSEN" or nothing at all when no daemon listens; libreswan/Openswan pluto logs "initial Main Mode message received on … but no connection has been authorized".',
          `On B: ${c('swanctl --list-conns')} (remote_addrs must include A's address) and ${c('ss -lun')} (something must listen on UDP 500/4500).`,
        ],
      }];
    }
    return [{
      rule: 'ike-no-answer', severity: 'error', checkpoint: 'B1', host: 'path', class: 'firewall-or-routing',
      title: `A's ${first.version === 2 ? 'IKE_SA_INIT' : 'first main-mode message'} on ${portWord(first)} never reaches B${tries}`,
      detail: f.B.recs.length > 0
        ? 'B\'s capture shows none of them: a firewall or router between the gateways (or in front of B) drops UDP 500/4500, or B\'s address is not reachable.'
        : 'Nothing came back; without B\'s capture, the path and a silent B look the same.',
      evidence: evOf(f, u.sends.slice(0, 4)),
      next_steps: [
        `Allow UDP 500 and 4500 (and ESP, protocol 50, when no NAT is in between) towards ${proseData(first.p.dst ?? 'B')} on every firewall on the way.`,
        'Capture on B\'s WAN while A retries: if the requests arrive there, B ignores them (its IKE log says why).',
      ],
    }];
  },
});

// ---- IKEv2

/** IKE_SA_INIT answered with a refusal: a notify-only answer, or an answer after which A gives up. */
function saInitRefusal(f: Facts): { req: IkeMsg; resp: IkeMsg; notify: number | null } | null {
  const m = model(f);
  if (m.version !== 2) return null;
  const reqs = m.a.filter((x) => x.exchange === IKE_SA_INIT && x.fromA && !x.response);
  const resps = m.a.filter((x) => x.exchange === IKE_SA_INIT && !x.fromA && x.response);
  if (reqs.length === 0 || resps.length === 0) return null;
  if (m.a.some((x) => x.exchange !== IKE_SA_INIT) || m.b.some((x) => x.exchange !== IKE_SA_INIT)) return null;
  const last = resps[resps.length - 1]!;
  // A retry after the last answer (COOKIE, INVALID_KE_PAYLOAD) that was never answered is a path question, not a refusal.
  if (reqs.some((x) => x.tc > last.tc + 0.001) && notifyNumber(last) !== N_NO_PROPOSAL_CHOSEN) return null;
  return { req: reqs[0]!, resp: last, notify: notifyNumber(last) };
}

function notifyNumber(x: IkeMsg): number | null {
  const bad = x.notify.find((n) => n < 16384);
  if (bad !== undefined) return bad;
  return x.notify.includes(N_COOKIE) ? N_COOKIE : null;
}

registerRule({
  id: 'ike-sa-init-refused', sign: 'IKEv2: B answers IKE_SA_INIT with a refusal (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD…) and no IKE SA follows',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s IKE_SA_INIT, B\'s answer (clear-text notify)',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => saInitRefusal(f) !== null && noEsp(f),
  evaluate: (f) => {
    const x = saInitRefusal(f)!;
    const name = x.notify !== null ? NOTIFY_NAME[x.notify] ?? `notify type ${x.notify}` : null;
    const onB = arrived(x.resp, model(f).b);
    const ke = x.notify === N_INVALID_KE_PAYLOAD;
    return [{
      rule: 'ike-sa-init-refused', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: name !== null
        ? `B refuses A's IKE_SA_INIT with ${name}: ${ke ? 'the Diffie-Hellman groups do not match' : x.notify === N_NO_PROPOSAL_CHOSEN ? 'no IKE proposal is acceptable to both gateways' : 'no IKE SA is set up'}`
        : 'B answers A\'s IKE_SA_INIT with a refusal and A gives up: no IKE SA is set up',
      detail: (name !== null
        ? `The answer carries ${name} in clear text. `
        : `The answer is ${notifyOnly(x.resp) ? `only ${x.resp.len} bytes (a bare notify, most often NO_PROPOSAL_CHOSEN)` : 'not followed by IKE_AUTH'}; the notify itself is not in this capture (tcpdump -v shows it). `) +
        'B received the request and refused it, so this is configuration, not the path: the IKE proposals (encryption, integrity, PRF, DH group) of the two gateways do not overlap.',
      evidence: evOf(f, [x.req, x.resp, onB]),
      next_steps: [
        `On B: the IKE daemon's log names what it received and what it accepts: charon logs "received proposals: …", "configured proposals: …" and "no acceptable ENCRYPTION_ALGORITHM found"; libreswan/Openswan pluto logs "no acceptable Oakley Transform" or "NO_PROPOSAL_CHOSEN". On A: "received ${name ?? 'NO_PROPOSAL_CHOSEN'} notify error".`,
        `Compare ${c('proposals =')} in swanctl.conf (or ${c('ike=')} in ipsec.conf / libreswan) on both gateways: ${c('swanctl --list-conns')} shows the configured ones.`,
      ],
    }];
  },
});

/** IKE_AUTH from A answered by B with nothing after it (no ESP, no CHILD_SA): what the answer and what follows say. */
function authOutcome(f: Facts): { req: IkeMsg; resp: IkeMsg; respB: IkeMsg | undefined; saUp: boolean } | null {
  const m = model(f);
  if (m.version !== 2) return null;
  const reqs = m.a.filter((x) => x.exchange === IKE_AUTH && x.fromA && !x.response);
  const respsA = m.a.filter((x) => x.exchange === IKE_AUTH && !x.fromA && x.response);
  const respsB = m.b.filter((x) => x.exchange === IKE_AUTH && !x.fromA && x.response);
  const resp = respsA.at(-1) ?? respsB.at(-1);
  if (resp === undefined || (reqs.length === 0 && m.b.every((x) => x.exchange !== IKE_AUTH || !x.fromA))) return null;
  const req = reqs[0] ?? m.b.find((x) => x.exchange === IKE_AUTH && x.fromA)!;
  // Exchanges after IKE_AUTH under the same SA (DPD, deletes, CREATE_CHILD_SA): the IKE SA was up.
  const later = [...m.a, ...m.b].some((x) => x.exchange > IKE_AUTH && x.exchange <= 37 && (x.msgid < 0 || x.msgid >= 2));
  return { req, resp, respB: respsB.at(-1), saUp: later || (resp.len > 0 && !notifyOnly(resp)) };
}

registerRule({
  id: 'ike-auth-refused', sign: 'IKEv2: B answers IKE_AUTH with a notify-only message and nothing follows (authentication refused)',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s IKE_AUTH, its arrival at B, B\'s short answer',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => { const o = authOutcome(f); return o !== null && !o.saUp && noEsp(f); },
  evaluate: (f) => {
    const o = authOutcome(f)!;
    const sized = o.resp.len > 0;
    return [{
      rule: 'ike-auth-refused', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: sized
        ? 'B refuses A\'s IKE_AUTH: authentication failed (pre-shared key, certificate or identities do not match)'
        : 'B answers A\'s IKE_AUTH and nothing follows: B refused the authentication or the CHILD_SA',
      detail: (sized
        ? `IKE_SA_INIT completed; A's IKE_AUTH reached B and B's encrypted answer is only ${o.resp.len} bytes, room for one notify (AUTHENTICATION_FAILED) but not for B's own identity and AUTH payloads. `
        : 'IKE_SA_INIT completed; A\'s IKE_AUTH reached B and B answered, but no CHILD_SA and no ESP follow. The answer is encrypted and its size is not in this capture. ') +
        'B received the request and refused it: configuration at B, not the path.',
      evidence: evOf(f, [o.req, arrived(o.req, model(f).b), o.respB, o.resp]),
      next_steps: [
        'On B: charon logs "tried 1 shared key for \'…\' - \'…\', but MAC mismatched" (pre-shared key), "no matching peer config found" (identities) or "authentication of \'…\' with pre-shared key failed"; libreswan pluto logs "AUTHENTICATION_FAILED". On A: "received AUTHENTICATION_FAILED notify error".',
        `Compare the pre-shared key (swanctl.conf secrets / ipsec.secrets) for the identities both sides use, and local/remote id: ${c('swanctl --list-conns')} on both gateways.`,
        ...(sized ? [] : ['A traffic-selector refusal looks the same in short text: on A, charon logs "received TS_UNACCEPTABLE notify, no CHILD_SA built" in that case.']),
      ],
    }];
  },
});

registerRule({
  id: 'ike-child-refused', sign: 'IKEv2: the IKE SA comes up but the CHILD_SA is refused (TS_UNACCEPTABLE, child proposals): no ESP',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s IKE_AUTH, B\'s full-size answer, later exchanges, no ESP',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => { const o = authOutcome(f); return o !== null && o.saUp && noEsp(f); },
  evaluate: (f) => {
    const o = authOutcome(f)!;
    return [{
      rule: 'ike-child-refused', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: 'The IKE SA comes up but B refuses the CHILD_SA: no ESP (traffic selectors or ESP proposals do not match)',
      detail: `B's answer to IKE_AUTH is ${o.resp.len > 0 ? `${o.resp.len} bytes, large enough for B's identity and AUTH` : 'followed by further exchanges on the same IKE SA'}, so B authenticated A; yet no ESP follows, so the CHILD_SA it carried was refused. It dies at tunnel policy: the traffic selectors (local_ts/remote_ts, leftsubnet/rightsubnet) or the ESP proposals.`,
      evidence: evOf(f, [o.req, arrived(o.req, model(f).b), o.respB, o.resp]),
      next_steps: [
        'On B: charon logs "traffic selectors … unacceptable" or "no acceptable proposal found" for ESP; libreswan pluto logs "TS_UNACCEPTABLE". On A: "received TS_UNACCEPTABLE notify, no CHILD_SA built".',
        `Compare local_ts/remote_ts and esp_proposals (leftsubnet/rightsubnet, esp=) on both gateways: ${c('swanctl --list-conns')}; each side's local selectors must be inside the other's remote ones.`,
      ],
    }];
  },
});

registerRule({
  id: 'ike-auth-ignored', sign: 'IKEv2: A\'s IKE_AUTH reaches B and B never answers',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s IKE_AUTH retries and their copies at B',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => {
    const m = model(f);
    if (m.version !== 2 || !noEsp(f)) return false;
    const atB = m.b.filter((x) => x.exchange === IKE_AUTH && x.fromA);
    return atB.length > 0 && !m.b.some((x) => x.exchange === IKE_AUTH && !x.fromA) && !m.a.some((x) => x.exchange === IKE_AUTH && !x.fromA);
  },
  evaluate: (f) => {
    const m = model(f);
    const atB = m.b.filter((x) => x.exchange === IKE_AUTH && x.fromA);
    return [{
      rule: 'ike-auth-ignored', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: `A's IKE_AUTH reaches B ${atB.length > 1 ? `${atB.length} times ` : ''}and B never answers`,
      detail: 'B got the message but sends nothing back: it cannot decrypt it (keys from a different IKE_SA_INIT), drops it as invalid, or its daemon is stuck. Configuration or state on B, not the path.',
      evidence: evOf(f, [m.a.find((x) => x.exchange === IKE_AUTH && x.fromA), ...atB.slice(0, 3)]),
      next_steps: ['On B: the charon log around the time of these messages ("message parsing failed", "integrity check failed", "ignoring"); libreswan pluto: "dropping".',
        `On B: ${c('swanctl --list-sas')} for half-open IKE SAs from A.`],
    }];
  },
});

// ---- IKEv1

/** Main or aggressive mode after the clear-text pairs: A's encrypted message repeats and B's encrypted answer never comes. */
function v1Stuck(f: Facts): { mi3: IkeMsg[]; atB: IkeMsg[]; complaints: IkeMsg[]; mode: number } | null {
  const m = model(f);
  if (m.version !== 1) return null;
  for (const mode of [V1_MAIN, V1_AGGRESSIVE]) {
    const own = m.a.filter((x) => x.exchange === mode);
    if (own.length === 0) continue;
    // MI3 (main mode) or AI2 (aggressive): A's encrypted phase-1 message; MR3: B's encrypted answer.
    const mi3 = own.filter((x) => x.fromA && (mode === V1_MAIN ? x.encrypted : own.some((y) => !y.fromA && y.tc < x.tc)));
    const mr3 = [...own, ...m.b.filter((x) => x.exchange === mode)].filter((x) => !x.fromA && x.encrypted);
    if (mi3.length === 0 || mr3.length > 0) continue;
    if (m.a.some((x) => x.exchange === V1_QUICK) || m.b.some((x) => x.exchange === V1_QUICK)) continue;
    const atB = m.b.filter((x) => x.exchange === mode && x.fromA && (mode === V1_MAIN ? x.encrypted : true)).filter((x) => mode === V1_MAIN || x.tc > (m.b.find((y) => y.exchange === mode && !y.fromA)?.tc ?? Infinity));
    const complaints = [...m.b, ...m.a].filter((x) => !x.fromA && x.exchange === V1_INFO);
    return { mi3, atB, complaints, mode };
  }
  return null;
}

/** IKEv1 phase 1 opened by A and answered only by B's informational message (a clear-text refusal). */
function v1OpenRefused(f: Facts): { req: IkeMsg; info: IkeMsg; notify: number | null } | null {
  const m = model(f);
  if (m.version !== 1) return null;
  for (const mode of [V1_MAIN, V1_AGGRESSIVE]) {
    const req = m.a.find((x) => x.exchange === mode && x.fromA) ?? m.b.find((x) => x.exchange === mode && x.fromA);
    if (req === undefined) continue;
    if ([...m.a, ...m.b].some((x) => x.exchange === mode && !x.fromA)) continue;
    const info = m.a.find((x) => x.exchange === V1_INFO && !x.fromA && x.tc >= req.tc) ?? m.b.find((x) => x.exchange === V1_INFO && !x.fromA);
    if (info === undefined) continue;
    return { req, info, notify: info.notify.find((n) => n < 16384) ?? null };
  }
  return null;
}

registerRule({
  id: 'ike-v1-phase1-refused', sign: 'IKEv1: B answers A\'s first phase-1 message with an informational notify (NO_PROPOSAL_CHOSEN…) instead of MR1',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s MI1, B\'s clear-text informational answer',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => v1OpenRefused(f) !== null && noEsp(f),
  evaluate: (f) => {
    const x = v1OpenRefused(f)!;
    const name = x.notify !== null ? NOTIFY_NAME[x.notify] ?? `notify type ${x.notify}` : null;
    const ids = x.notify === N_INVALID_ID_INFORMATION;
    return [{
      rule: 'ike-v1-phase1-refused', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: `B refuses A's phase-1 proposal${name !== null ? ` with ${name}` : ''}: ${ids ? 'the identities do not match' : 'no IKE proposal is acceptable to both gateways'}`,
      detail: `A's first main-mode message reached B and B answered with an informational message${name !== null ? ` carrying ${name} in clear text` : ''} instead of its own proposal (MR1). B received it and refused it: configuration, not the path.`,
      evidence: evOf(f, [x.req, arrived(x.req, model(f).b), x.info, arrived(x.info, model(f).a)]),
      next_steps: [
        'On B: charon logs "no proposal found" with the received and configured proposals; libreswan/Openswan pluto logs "no acceptable Oakley Transform". On A: "received NO_PROPOSAL_CHOSEN error notify".',
        `Compare ike= (IKEv1 proposals: encryption, hash, DH group) on both gateways: ${c('swanctl --list-conns')} or ${c('ipsec status')}.`,
      ],
    }];
  },
});

registerRule({
  id: 'ike-v1-mi3-refused', sign: 'IKEv1 (Openswan b): MI3 repeated, it reaches B, B complains instead of sending MR3 (pre-shared key / ID mismatch)',
  classes: ['ipsec-config'], host: 'B', evidence: 'A\'s repeated MI3, its copies at B, B\'s informational answers',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => { const s = v1Stuck(f); return s !== null && s.atB.length > 0 && noEsp(f); },
  evaluate: (f) => {
    const s = v1Stuck(f)!;
    const name = s.mode === V1_MAIN ? 'MI3 (main mode message 5)' : 'the last aggressive-mode message';
    return [{
      rule: 'ike-v1-mi3-refused', severity: 'error', checkpoint: 'B2', host: 'B', class: 'ipsec-config',
      title: `B receives A's encrypted ${s.mode === V1_MAIN ? 'MI3' : 'phase-1 message'} ${s.atB.length > 1 ? `${s.atB.length} times ` : ''}and ${s.complaints.length > 0 ? 'answers with complaints' : 'never answers'}: pre-shared key or identities do not match`,
      detail: `Phase 1 gets through its clear-text messages, then ${name} repeats without B's encrypted answer. It reaches B (B's capture shows it), so the path is fine: B cannot decrypt or authenticate it, which is what a different pre-shared key (different encryption keys) or an identity mismatch does.` +
        (s.complaints.length > 0 ? ` B answers each with an informational message (${s.complaints.length} seen) instead of MR3.` : ''),
      evidence: evOf(f, [...s.mi3.slice(0, 2), ...s.atB.slice(0, 2), ...s.complaints.slice(0, 2)]),
      next_steps: [
        'On B: charon logs "invalid HASH_V1 payload length, decryption failed?" or "invalid ID_V1 payload length, decryption failed?"; libreswan/Openswan pluto logs "probable authentication failure (mismatch of preshared secrets?)" or "INVALID_ID_INFORMATION".',
        `Compare the pre-shared key for the identities both gateways use (ipsec.secrets / swanctl.conf secrets) and leftid/rightid (local/remote id): ${c('swanctl --list-conns')} or ${c('ipsec status')}.`,
      ],
    }];
  },
});

registerRule({
  id: 'ike-v1-mi3-lost', sign: 'IKEv1 (Openswan b): MI3 repeated and never reaches B (NAT-T port 4500 or the path drops it)',
  classes: ['firewall'], host: 'path', evidence: 'A\'s repeated MI3, B\'s capture without it, the clear-text pairs that passed',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => { const s = v1Stuck(f); return s !== null && s.atB.length === 0 && s.mi3.length >= 2 && model(f).b.length > 0 && noEsp(f); },
  evaluate: (f) => {
    const s = v1Stuck(f)!;
    const x = s.mi3[0]!;
    const passed = model(f).b.find((y) => y.fromA);
    const moved = passed?.port !== undefined && x.port !== undefined && passed.port !== x.port;
    return [{
      rule: 'ike-v1-mi3-lost', severity: 'error', checkpoint: where(f), host: 'path', class: 'firewall',
      title: `A's encrypted MI3 on ${portWord(x)} never reaches B (${s.mi3.length} tries)${moved ? `, though the exchange on UDP ${passed!.port} got through` : ''}`,
      detail: moved
        ? `NAT was detected and phase 1 moved to UDP ${x.port} (NAT-T); a firewall between the gateways lets UDP ${passed!.port} through and drops UDP ${x.port}. The same addresses reach each other, so it is a filter, not routing.`
        : 'The clear-text messages pass, the encrypted one never arrives at B: something on the path drops it (size, fragments or a filter).',
      evidence: evOf(f, [...s.mi3.slice(0, 3), passed]),
      next_steps: [
        `Allow ${portWord(x)} (and UDP 500) between the gateways in both directions; NAT-T needs both.`,
        `Capture on B's WAN while A retries: nothing on ${portWord(x)} arrives there.`,
      ],
    }];
  },
});

registerRule({
  id: 'ike-v1-quick-incomplete', sign: 'IKEv1 (Openswan c): phase 1 done, quick mode never completes (phase-2 proposals or selectors refused)',
  classes: ['ipsec-config', 'firewall-or-routing'], host: 'B (path when QI1 never reaches B)', evidence: 'quick-mode messages on both ends',
  tunnels: ['ipsec'], withoutFlow: true, overrides: GENERIC,
  applies: (f) => {
    const m = model(f);
    if (m.version !== 1 || !noEsp(f)) return false;
    const q = m.a.filter((x) => x.exchange === V1_QUICK);
    const qi = q.filter((x) => x.fromA);
    const qr = q.filter((x) => !x.fromA);
    // QI1, QR1, QI2: complete when A sent two after B's one.
    return qi.length > 0 && !(qr.length > 0 && qi.some((x) => x.tc > qr[0]!.tc));
  },
  evaluate: (f) => {
    const m = model(f);
    const qi = m.a.filter((x) => x.exchange === V1_QUICK && x.fromA);
    const atB = m.b.filter((x) => x.exchange === V1_QUICK && x.fromA);
    const reached = atB.length > 0 || m.b.length === 0;
    return [{
      rule: 'ike-v1-quick-incomplete', severity: 'error', checkpoint: reached ? 'B2' : where(f), host: reached ? 'B' : 'path', class: reached ? 'ipsec-config' : 'firewall-or-routing',
      title: reached ? 'Phase 1 is up but quick mode never completes: B refuses the phase-2 proposal or the selectors'
        : 'Phase 1 is up but A\'s quick-mode request never reaches B',
      detail: reached
        ? 'A sends QI1 and B does not accept it (no QR1, or no QI2 after it): the phase-2 proposals (esp=) or the subnets (leftsubnet/rightsubnet) differ between the gateways.'
        : 'The quick-mode request leaves A and B\'s capture does not show it.',
      evidence: evOf(f, [...qi.slice(0, 3), ...atB.slice(0, 2)]),
      next_steps: reached
        ? ['On B: pluto logs "cannot respond to IPsec SA request because no connection is known for …" or "NO_PROPOSAL_CHOSEN"; charon logs "no matching CHILD_SA config found" or "no acceptable proposal found".',
          `Compare esp= and leftsubnet/rightsubnet (esp_proposals, local_ts/remote_ts) on both gateways: ${c('swanctl --list-conns')} or ${c('ipsec status')}.`]
        : ['Allow UDP 500/4500 between the gateways in both directions.'],
    }];
  },
});

registerRule({
  id: 'ike-sa-up-no-esp', sign: 'IKE SAs up (quick mode or CREATE_CHILD_SA done) but A sends no ESP (Openswan d: data plane)',
  classes: ['ipsec-config'], host: 'A', evidence: 'the completed exchange, no ESP from A',
  tunnels: ['ipsec'], overrides: ['missing-a4'],
  applies: (f) => {
    if (f.firstMissing !== 'A4') return false;
    const m = model(f);
    const q = m.a.filter((x) => x.exchange === V1_QUICK);
    const v1done = q.some((x) => !x.fromA) && q.some((x) => x.fromA && x.tc > q.find((y) => !y.fromA)!.tc);
    const v2child = m.a.some((x) => x.exchange === 36 && !x.fromA && x.response && (x.len < 0 || !notifyOnly(x)));
    return v1done || v2child;
  },
  evaluate: (f) => [{
    rule: 'ike-sa-up-no-esp', severity: 'error', checkpoint: 'A4', host: 'A', class: 'ipsec-config',
    title: 'The SAs are up, but A sends no ESP for the test connection',
    detail: `The negotiation completed, so the path carries IKE; the test packet is not covered by an outbound policy on A: the selectors do not include ${f.say.aTunAddr} → ${f.say.dstAddr}, or NAT on A changed the packet before the policy lookup.`,
    evidence: f.L('A1') !== undefined ? [ev(f.A, f.L('A1')!.r)] : [],
    next_steps: [`On A: ${c('ip xfrm policy')} (an "out" policy covering ${f.say.dstAddr}) and ${c('swanctl --list-sas')} (the installed selectors).`],
  }],
});

registerRule({
  id: 'ike-dpd-unanswered', sign: 'IKEv2: an INFORMATIONAL request (dead-peer detection, delete) is retransmitted and never answered',
  classes: ['firewall-or-routing'], host: 'path (or the silent peer)', evidence: 'the retransmitted INFORMATIONAL requests',
  tunnels: ['ipsec'], withoutFlow: true,
  applies: (f) => model(f).version === 2,
  evaluate: (f) => {
    const m = model(f);
    const out: Finding[] = [];
    for (const [list, other, sender] of [[m.a, m.b, 'A'], [m.b, m.a, 'B']] as const) {
      // Requests this side sent: A's capture shows A's own as fromA, B's capture B's own as !fromA.
      const mine = list.filter((x) => x.exchange === 37 && !x.response && x.fromA === (sender === 'A'));
      const byId = new Map<number, IkeMsg[]>();
      for (const x of mine) { const l = byId.get(x.msgid) ?? []; l.push(x); byId.set(x.msgid, l); }
      for (const [id, sends] of byId) {
        if (sends.length < 3 || id < 0) continue;
        const answered = [...list, ...other].some((y) => y.exchange === 37 && y.response && y.msgid === id && y.fromA !== (sender === 'A'));
        if (answered) continue;
        const peer = sender === 'A' ? 'B' : 'A';
        const reached = arrived(sends[0]!, other) !== undefined;
        out.push({
          rule: 'ike-dpd-unanswered', severity: 'warning', checkpoint: null, host: reached ? peer : 'path', class: 'firewall-or-routing',
          title: `${sender}'s IKE INFORMATIONAL request (liveness check or delete) is sent ${sends.length} times and never answered`,
          detail: reached
            ? `${peer}'s capture shows the requests arriving, and ${peer} does not answer: its IKE daemon lost the SA (restart, expiry) or is stuck.`
            : `${peer} ${other.length > 0 ? 'never shows them' : 'captured no IKE'}: the path between the gateways stopped carrying UDP ${sends[0]!.port ?? 500}/4500, or ${peer} is gone. The tunnel will be declared dead.`,
          evidence: evOf(f, sends.slice(0, 4)),
          next_steps: [`On ${peer}: ${c('swanctl --list-sas')} (is the IKE SA still there?) and the charon log ("sending DPD request", "giving up after … retransmits").`],
        });
        break;
      }
    }
    return out;
  },
});
