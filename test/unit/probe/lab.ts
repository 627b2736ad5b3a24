// The probe's lab: the capture tests' two namespaces joined by a veth, a WireGuard tunnel between them
// (wireguard-go), Debian's sshd in B, and a TCP/HTTP listener on B's tunnel address. The CLI runs
// inside namespace A from the sources, with A = this host and B over ssh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLab, hasSshd, hasWireguard, skipReason, startSshd, startWireguard, type Lab, type Sshd, type WgLab } from '../../integration/capture/lab.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('./run-cli.ts', import.meta.url));
const listenerScript = fileURLToPath(new URL('./listener.ts', import.meta.url));

export function labSkip(): string | null {
  return skipReason({ tcpdump: true }) ?? (hasSshd() ? null : 'openssh-server or the ssh client is not installed')
    ?? (hasWireguard() ? null : 'wireguard-go, wg or /dev/net/tun is missing');
}

export interface ProbeLab { lab: Lab; sshd: Sshd; wg: WgLab; listener: ChildProcess; port: number; cleanup(): void }

export async function startProbeLab(port = 8080): Promise<ProbeLab> {
  const lab = createLab();
  let sshd: Sshd | undefined, wg: WgLab | undefined, listener: ChildProcess | undefined;
  try {
    sshd = await startSshd(lab, lab.nsB, lab.addrB);
    wg = await startWireguard(lab);
    // B knows A's endpoint too (site to site), so its input firewall can be judged for A's handshake.
    const pubA = lab.exec(lab.nsA, ['wg', 'show', wg.ifA, 'public-key']).trim();
    lab.exec(lab.nsB, ['wg', 'set', wg.ifB, 'peer', pubA, 'endpoint', `${lab.addrA}:51821`]);
    listener = lab.spawnIn(lab.nsB, [process.execPath, '--import', 'tsx', listenerScript, wg.innerB, String(port)]);
    await new Promise<void>((res, rej) => {
      listener!.stdout!.once('data', () => res());
      listener!.once('close', (c) => rej(new Error(`listener exited (${c})`)));
    });
  } catch (e) {
    listener?.kill(); wg?.stop(); sshd?.stop(); lab.cleanup();
    throw e;
  }
  const s = sshd, w = wg, l = listener;
  return { lab, sshd: s, wg: w, listener: l, port, cleanup: () => { l.kill(); w.stop(); s.stop(); lab.cleanup(); } };
}

/** `tandem probe --a local --b root@B …` arguments for this lab. */
export function probeArgs(p: ProbeLab, out: string, extra: string[] = []): string[] {
  return ['probe', '--a', 'local', '--b', `root@${p.lab.addrB}:${p.sshd.port}`, '--key', p.sshd.key, '--known-hosts', p.sshd.knownHosts,
    '--target', p.wg.innerB, '--test', `tcp:${p.port}`, '--settle', '1', '--out', out, ...extra];
}

export interface CliRun { status: number | null; stdout: string; stderr: string }

/** Runs `tandem ARGS` inside namespace A and waits for it. */
export function runCliIn(ns: string, args: string[], timeoutMs = 120_000, env?: NodeJS.ProcessEnv): CliRun {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs, ...(env && { env }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `tandem ARGS` inside namespace A (for cancel tests). */
export function spawnCliIn(ns: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

export { sleep, readBack, startSshd } from '../../integration/capture/lab.ts';
