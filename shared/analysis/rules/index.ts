// Every diagnosis rule, registered on import (one line per file). Order = registration order,
// which is the order of findings with equal severity and checkpoint.
import './missing.ts';
import './general.ts';
import './asymmetric.ts';
import './mtu.ts';
import './ike.ts';
import './icmp.ts';
import './fwlog.ts';
import './ipsec-post.ts';
import './evidence-wg.ts';
import './evidence-net.ts';
import './evidence-ipsec.ts';
import './evidence-nat.ts';

export { ruleList, ruleById, registerRule, type Rule } from './registry.ts';
