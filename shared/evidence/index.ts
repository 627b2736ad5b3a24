// Host evidence: the outputs of the commands an engineer runs on each end (wg, ip, nft/iptables,
// sysctl, swanctl/xfrm, IKE daemon logs) as typed facts, and the evaluators the diagnosis rules use.
export * from './types.ts';
export * from './text.ts';
export * from './net.ts';
export * from './wg.ts';
export * from './iproute.ts';
export * from './firewall.ts';
export * from './sysctl.ts';
export * from './links.ts';
export * from './ipsec.ts';
export * from './nat.ts';
export * from './detect.ts';
