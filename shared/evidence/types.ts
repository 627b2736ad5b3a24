// The facts of one host, gathered from whatever command outputs the user pasted or imported.
import type { ParseProblem } from './text.ts';
import type { WgDump, WgTransfer } from './wg.ts';
import type { IfAddress, IpRule, Route, RouteGetAnswer } from './iproute.ts';
import type { FwRuleset } from './firewall.ts';
import type { Sysctl } from './sysctl.ts';
import type { LinkCounters } from './links.ts';
import type { IpsecConn, LogEvent, XfrmPolicy, XfrmState } from './ipsec.ts';

export type EvidenceFormat =
  | 'wg-dump' | 'wg-transfer' | 'ip-addr' | 'ip-route' | 'ip-route-get' | 'ip-rule' | 'nft-json' | 'nft-text' | 'iptables-save'
  | 'sysctl' | 'ip-s-link' | 'swanctl' | 'ipsec-status' | 'xfrm-policy' | 'xfrm-state' | 'ipsec-log';

export interface EvidenceSource {
  /** File name or a label for pasted text. */
  name: string;
  format: EvidenceFormat;
  /** "before"/"after" for counter readings, when known. */
  when: 'before' | 'after' | null;
  problems: ParseProblem[];
}

export interface HostEvidence {
  sources: EvidenceSource[];
  wg?: WgDump;
  /** A reading taken before the test (dump or transfer), for deltas against `wg`/`wgTransfer`. */
  wgBefore?: WgDump | WgTransfer;
  wgTransfer?: WgTransfer;
  addrs?: IfAddress[];
  routes?: Route[];
  rules?: IpRule[];
  /** The host's own `ip route get` answers, when pasted. */
  routeGet?: RouteGetAnswer[];
  firewall?: FwRuleset;
  firewallBefore?: FwRuleset;
  sysctl?: Sysctl;
  links?: LinkCounters[];
  linksBefore?: LinkCounters[];
  ipsecConns?: IpsecConn[];
  xfrmPolicies?: XfrmPolicy[];
  xfrmStates?: XfrmState[];
  ipsecLog?: LogEvent[];
  /** Source name for each kind of fact, to say where a quote came from. */
  from: Partial<Record<EvidenceFormat | 'firewall', string>>;
}
