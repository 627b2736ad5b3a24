// Notify message types as tcpdump's ISAKMP printer names them in -v output. IKEv2 prints the number
// itself ("type=16390(cookie)"); IKEv1 prints a name ("type=INVALID-SPI") or "#N" for unknown ones.
// Names are matched without case and with '-' and '_' alike, so a hand-edited paste still reads.
// tcpdump prints IKEv2 14 as "no_protocol_chosen" (sic): both spellings are kept.

const V1: Record<string, number> = {
  'invalid-payload-type': 1, 'doi-not-supported': 2, 'situation-not-supported': 3, 'invalid-cookie': 4,
  'invalid-major-version': 5, 'invalid-minor-version': 6, 'invalid-exchange-type': 7, 'invalid-flags': 8,
  'invalid-message-id': 9, 'invalid-protocol-id': 10, 'invalid-spi': 11, 'invalid-transform-id': 12,
  'attributes-not-supported': 13, 'no-proposal-chosen': 14, 'bad-proposal-syntax': 15, 'payload-malformed': 16,
  'invalid-key-information': 17, 'invalid-id-information': 18, 'invalid-cert-encoding': 19, 'invalid-certificate': 20,
  'cert-type-unsupported': 21, 'invalid-cert-authority': 22, 'invalid-hash-information': 23,
  'authentication-failed': 24, 'invalid-signature': 25, 'address-notification': 26, 'notify-sa-lifetime': 27,
  'certificate-unavailable': 28, 'unsupported-exchange-type': 29, 'unequal-payload-lengths': 30,
  connected: 16384, 'responder-lifetime': 24576, 'replay-status': 24577, 'initial-contact': 24578,
};

/** IKEv2 names (RFC 7296 registry), for text that carries a name without its number. */
const V2: Record<string, number> = {
  'unsupported-critical-payload': 1, 'invalid-ike-spi': 4, 'invalid-major-version': 5, 'invalid-syntax': 7,
  'invalid-message-id': 9, 'invalid-spi': 11, 'no-proposal-chosen': 14, 'no-protocol-chosen': 14, 'invalid-ke-payload': 17,
  'authentication-failed': 24, 'single-pair-required': 34, 'no-additional-sas': 35, 'internal-address-failure': 36,
  'failed-cp-required': 37, 'ts-unacceptable': 38, 'invalid-selectors': 39, 'temporary-failure': 43,
  'child-sa-not-found': 44, 'initial-contact': 16384, 'set-window-size': 16385, 'additional-ts-possible': 16386,
  'ipcomp-supported': 16387, 'nat-detection-source-ip': 16388, 'nat-detection-destination-ip': 16389,
  cookie: 16390, 'use-transport-mode': 16391, 'rekey-sa': 16393, 'esp-tfc-padding-not-supported': 16394,
  'mobike-supported': 16396, 'ikev2-fragmentation-supported': 16430, 'signature-hash-algorithms': 16431,
};

/**
 * Notify types in an IKE text (one `(n: … type=…)` per notify payload), in order; [] when none.
 * Scans with indexOf: the text can be long and comes from anywhere.
 */
export function notifyTypes(s: string, version: 1 | 2): number[] {
  const out: number[] = [];
  for (let i = s.indexOf('(n: '); i >= 0; i = s.indexOf('(n: ', i + 4)) {
    // The type is a few fields after the payload's start; a bounded look keeps hostile text linear.
    const t = s.slice(i, i + 200).indexOf('type=');
    if (t < 0) continue;
    let j = i + t + 5;
    let word = '';
    while (j < s.length && word.length < 64 && /[\w#-]/.test(s[j]!)) word += s[j++]!;
    if (word === '') continue;
    const n = /^#?(\d+)$/.exec(word);
    if (n) { out.push(Number(n[1])); continue; }
    const key = word.toLowerCase().replace(/_/g, '-');
    const v = version === 1 ? V1[key] ?? V2[key] : V2[key] ?? V1[key];
    if (v !== undefined) out.push(v);
  }
  return out;
}
