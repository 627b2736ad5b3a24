// The diagnosis rules: small named rules registered like dissectors. diagnose() runs every rule
// that applies to the tunnel kind at hand and picks the verdict from their findings. Each finding
// carries its rule's id (`Finding.rule`), and RULES.md is generated from this registry.
//
// To add a rule: write shared/analysis/rules/<id-or-family>.ts that calls registerRule({...}) and
// add one import line to shared/analysis/rules/index.ts. Read only the facts (shared/analysis/facts.ts);
// host evidence arrives as `facts.evidence` / `facts.options`.

import type { Facts } from '../facts.ts';
import type { FailureClass, Finding } from '../types.ts';
import type { TunnelKind } from '../tunnels/types.ts';

export interface Rule {
  /** Stable id, kebab-case; goes into Finding.rule. */
  id: string;
  /** The sign in one line, for RULES.md. */
  sign: string;
  /** Classes its findings may carry, for RULES.md. */
  classes: readonly FailureClass[];
  /** Where the fix is (as FixHost words, or prose), for RULES.md. */
  host: string;
  /** What it cites as evidence, for RULES.md. */
  evidence: string;
  /** Tunnel kinds it applies to; '*' for all (including captures with no tunnel recognised). */
  tunnels: ReadonlyArray<TunnelKind | '*'>;
  /** Runs also when no flow under test was found (default: only with a flow). */
  withoutFlow?: boolean;
  /**
   * Ids of rules whose error findings this rule's error findings replace (a more specific reading
   * of the same sign): they are dropped when this rule produced an error.
   */
  overrides?: readonly string[];
  /**
   * Produced elsewhere than evaluate() (the tunnel module's post-pass, the role decision): names
   * where, and lists the id here so it is known and documented.
   */
  postPass?: boolean;
  producedBy?: string;
  applies(f: Facts): boolean;
  evaluate(f: Facts): Finding[];
}

const RULES: Rule[] = [];

export function registerRule(r: Rule): void {
  if (RULES.some((x) => x.id === r.id)) throw new Error(`diagnosis rule ${r.id} registered twice`);
  RULES.push(r);
}

/** Every registered rule, in registration order. */
export function ruleList(): readonly Rule[] { return RULES; }

export function ruleById(id: string): Rule | undefined { return RULES.find((r) => r.id === id); }

/** A rule documented here whose findings come from elsewhere (default: a tunnel module's post-pass). */
export function declarePostPass(r: Omit<Rule, 'applies' | 'evaluate' | 'postPass'>): void {
  registerRule({ producedBy: 'post-pass', ...r, postPass: true, applies: () => false, evaluate: () => [] });
}
