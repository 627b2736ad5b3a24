// The guided test ("probe"): one test connection from A to a target behind B while both ends capture,
// with the hosts' own evidence (routes, firewall, WireGuard/IPsec state, counters, log lines) collected
// before and after. The same engine runs in `bin/tandem probe` and behind the app's "Run a test".
import type { AnalysisResult } from '../../shared/analysis/types.ts';

/** One end of the test: this machine, or a host reached over SSH (key or agent only, never a password). */
export interface ProbeEnd {
  kind: 'local' | 'ssh';
  /** ssh: user@host[:port] (validated like the far-end capture's destination). */
  destination?: string;
  /** ssh: private key file (ssh -i); otherwise the agent and default keys. */
  identityFile?: string;
  /** ssh: where host keys are remembered; default ssh's own known_hosts. */
  knownHostsFile?: string;
  /** Run the privileged commands (tcpdump, nft, iptables-save, wg, swanctl, ip xfrm) through `sudo -n`. */
  sudo?: boolean;
  /** Capture interface; default 'any'. */
  iface?: string;
}

export type ProbeTestKind = 'tcp' | 'http' | 'ping' | 'udp';

export interface ProbeOptions {
  a: ProbeEnd;
  b: ProbeEnd;
  /** The target behind B: an IPv4 or IPv6 address. */
  target: string;
  test: ProbeTestKind;
  /** tcp, http, udp: destination port. */
  port?: number;
  /** Where captures, evidence files and probe.json are written (created if missing). */
  outDir: string;
  /** Capture snaplen; default 256 (headers of tunnel and inner packets, not payloads). */
  snaplen?: number;
  /** How long to keep capturing after the test ends, for retransmissions and replies; default 3000 ms. */
  settleMs?: number;
  /** Upper bound for the test command itself; default 10 s. */
  testTimeoutSec?: number;
  /** ssh connect timeout; default 10 s. */
  connectTimeoutSec?: number;
}

export type ProbeStep = 'connect' | 'evidence-before' | 'capture-start' | 'test' | 'settle' | 'capture-stop' | 'evidence-after' | 'analyze';
export const PROBE_STEPS: readonly ProbeStep[] = ['connect', 'evidence-before', 'capture-start', 'test', 'settle', 'capture-stop', 'evidence-after', 'analyze'];

export interface ProbeProgress {
  step: ProbeStep;
  /** The host a step runs on, when it runs on one. */
  host?: 'A' | 'B';
  state: 'running' | 'done' | 'failed' | 'skipped';
  /** One line for people (already free of control characters). */
  detail?: string;
}

/** What one host contributed, as files under outDir. */
export interface ProbeHostFiles {
  /** The capture (pcap or pcapng), '' when none was taken. */
  capture: string;
  /** `ip -o link` of the host (names for SLL2 interface indexes), '' when not collected. */
  links: string;
  /** Evidence files (one command's output each, before and after), in the order collected. */
  evidence: string[];
}

export interface ProbeResult {
  outDir: string;
  files: { A: ProbeHostFiles; B: ProbeHostFiles };
  /** The test connection as run on A: exit code and its last lines of output. */
  test?: { command: string; exitCode: number | null; ok: boolean; output: string };
  /** The analysis of both captures with the evidence (absent when the probe failed before it). */
  analysis?: AnalysisResult;
  /** The first step that failed; what was collected before it is kept in outDir. */
  failed?: { step: ProbeStep; host?: 'A' | 'B'; message: string };
  cancelled?: boolean;
}

export interface ProbeHooks {
  onProgress?: (p: ProbeProgress) => void;
  /** Aborting stops every command on both hosts (captures included) and ends the probe as cancelled. */
  signal?: AbortSignal;
}
