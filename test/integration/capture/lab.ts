// Network-namespace lab for the capture tests: two namespaces joined by a veth pair, 10.99.x.x
// addresses, IPv6 off so no neighbour-discovery noise. Everything stays inside these namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCap } from '../../../electron/capture/cap-binding.ts';
import { readCapture } from '../../../shared/capture-file/reader.ts';
import type { CaptureInterface, RawFrame } from '../../../shared/capture-file/types.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const senderScript = fileURLToPath(new URL('./send-udp.ts', import.meta.url));
export const cliScript = fileURLToPath(new URL('./run-cli.ts', import.meta.url));
export const helperScript = fileURLToPath(new URL('../../../electron/capture/helper.ts', import.meta.url));

function which(cmd: string): boolean {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, cmd)));
}

/** Why these tests cannot run here, or null. */
export function skipReason(opts: { tcpdump?: boolean } = {}): string | null {
  if (process.platform !== 'linux') return 'capture lab needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'capture lab needs root (network namespaces and CAP_NET_RAW)';
  const cap = loadCap();
  if (cap instanceof Error) return cap.message;
  if (!which('ip')) return 'iproute2 `ip` is not installed';
  if (opts.tcpdump && !which('tcpdump')) return 'tcpdump is not installed (needed as the reference capture)';
  return null;
}

let serial = 0;

export interface Lab {
  nsA: string; nsB: string; ifA: string; ifB: string; addrA: string; addrB: string; dir: string;
  /** Runs a command inside namespace A or B. */
  exec(ns: string, cmd: string[], opts?: { input?: string }): string;
  spawnIn(ns: string, cmd: string[]): ChildProcess;
  /** Sends `count` UDP datagrams from `ns` to addr:port; resolves when all are sent. */
  sendUdp(ns: string, addr: string, port: number, count: number, intervalMs?: number, burst?: number): Promise<void>;
  cleanup(): void;
}

function ip(args: string[]): void { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }); }

export function createLab(): Lab {
  const id = `${process.pid}${serial++}`;
  const nsA = `tdmcap-${id}-a`, nsB = `tdmcap-${id}-b`;
  // Interface names are limited to 15 bytes.
  const ifA = `tcA${id}`.slice(0, 15), ifB = `tcB${id}`.slice(0, 15);
  const octet = 1 + (Number(id) % 250);
  const addrA = `10.99.${octet}.1`, addrB = `10.99.${octet}.2`;
  const dir = mkdtempSync(join(tmpdir(), 'tdmcap-'));
  const lab: Lab = {
    nsA, nsB, ifA, ifB, addrA, addrB, dir,
    exec: (ns, cmd, o) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', input: o?.input, stdio: ['pipe', 'pipe', 'pipe'] }),
    spawnIn: (ns, cmd) => spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] }),
    sendUdp: (ns, addr, port, count, intervalMs = 0, burst = 1) => new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', senderScript, addr, String(port), String(count), String(intervalMs), String(burst)],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`UDP sender failed (${code}): ${err.trim()}`))));
    }),
    cleanup: () => {
      for (const ns of [nsA, nsB]) { try { ip(['netns', 'del', ns]); } catch { /* already gone */ } }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    ip(['netns', 'add', nsA]);
    ip(['netns', 'add', nsB]);
    ip(['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    for (const [ns, dev, addr] of [[nsA, ifA, addrA], [nsB, ifB, addrB]] as const) {
      lab.exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Resolve ARP once so the measured flows carry only UDP.
    execFileSync('ip', ['-n', nsA, 'neigh', 'replace', addrB, 'lladdr', macOf(lab, nsB, ifB), 'dev', ifA, 'nud', 'permanent']);
    execFileSync('ip', ['-n', nsB, 'neigh', 'replace', addrA, 'lladdr', macOf(lab, nsA, ifA), 'dev', ifB, 'nud', 'permanent']);
  } catch (e) {
    lab.cleanup();
    throw e;
  }
  return lab;
}

function macOf(lab: Lab, ns: string, dev: string): string {
  return lab.exec(ns, ['cat', `/sys/class/net/${dev}/address`]).trim();
}

export interface ReadBack { interfaces: CaptureInterface[]; frames: RawFrame[]; complete: boolean; problems: string[] }

/** Reads a capture file through the shared reader, keeping copies of every frame. */
export async function readBack(bytes: Uint8Array): Promise<ReadBack> {
  const gen = readCapture(bytes);
  const frames: RawFrame[] = [];
  let interfaces: CaptureInterface[] = [];
  while (true) {
    const r = await gen.next();
    if (r.done) return { interfaces, frames, complete: r.value.complete, problems: r.value.problems.map((p) => p.message) };
    interfaces = r.value.interfaces;
    // A plain Uint8Array copy: Buffer#slice would be a view into the reader's buffer.
    for (const f of r.value.frames) frames.push({ ...f, data: new Uint8Array(f.data) });
  }
}

/** Starts tcpdump as the reference capture and resolves once it is listening (same 64 MiB ring as the helper by default). */
export function startTcpdump(lab: Lab, ns: string, dev: string, file: string, filter: string[], bufferKiB = 65536): Promise<{ proc: ChildProcess; stop: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const proc = lab.spawnIn(ns, ['tcpdump', '-Z', 'root', '-n', '-i', dev, '-U', '--immediate-mode', '-B', String(bufferKiB), '-w', file, ...filter]);
    let err = '';
    let listening = false;
    const closed = new Promise<string>((r) => proc.on('close', () => r(err)));
    proc.stderr!.on('data', (d) => {
      err += d;
      if (!listening && /listening on/.test(err)) {
        listening = true;
        resolve({ proc, stop: () => { proc.kill('SIGINT'); return closed; } });
      }
    });
    proc.on('close', (code) => { if (!listening) reject(new Error(`tcpdump exited (${code}): ${err.trim()}`)); });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Sshd { port: number; key: string; wrongKey: string; knownHosts: string; stop(): void }

/**
 * Debian's OpenSSH server inside `ns`, own folder, config, host key and port, root login by key only.
 * With `shell`, root logs in with that shell: the server runs in a private mount namespace over a copy
 * of /etc whose passwd names it (the machine's files are untouched). The copy is bound over the whole
 * folder, not over /etc/passwd alone: useradd and userdel (run by other tests at the same time) replace
 * /etc/passwd by a rename, and the kernel detaches a bind mount on a file that is renamed over, after
 * which sshd would read the machine's passwd again.
 */
export async function startSshd(lab: Lab, ns: string, addr: string, port = 2222, shell?: string): Promise<Sshd> {
  const d = join(lab.dir, `ssh-${port}`);
  mkdirSync(d, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true });
  for (const k of ['host', 'id', 'wrong']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tandem-test', '-f', join(d, k)]);
  writeFileSync(join(d, 'authorized_keys'), readFileSync(join(d, 'id.pub')));
  const config = join(d, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, `ListenAddress ${addr}`, `HostKey ${join(d, 'host')}`, `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
    'StrictModes no', `PidFile ${join(d, 'sshd.pid')}`, 'LogLevel ERROR', '',
  ].join('\n'));
  let proc: ChildProcess;
  if (shell === undefined) proc = lab.spawnIn(ns, ['/usr/sbin/sshd', '-D', '-e', '-f', config]);
  else {
    const etc = join(d, 'etc');
    execFileSync('cp', ['-a', '/etc', etc]);
    writeFileSync(join(etc, 'passwd'), readFileSync('/etc/passwd', 'utf8').replace(/^(root:[^\n]*:)[^:\n]*$/m, `$1${shell}`));
    proc = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
      'mount --bind "$1" /etc && exec ip netns exec "$2" /usr/sbin/sshd -D -e -f "$3"', 'sh', etc, ns, config],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  let err = '';
  proc.stderr!.on('data', (c) => { err += c; });
  // A loaded machine (tests run in parallel on two cores) may take seconds to start sshd.
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`sshd exited: ${err.trim()}`);
    if (lab.exec(ns, ['ss', '-ltn']).includes(`${addr}:${port}`)) break;
    if (i > 600) { proc.kill('SIGTERM'); throw new Error(`sshd did not listen within 30 s: ${err.trim()}`); }
    await sleep(50);
  }
  return { port, key: join(d, 'id'), wrongKey: join(d, 'wrong'), knownHosts: join(d, 'known_hosts'), stop: () => { proc.kill('SIGTERM'); } };
}

export function hasSshd(): boolean { return existsSync('/usr/sbin/sshd') && which('ssh') && which('ssh-keygen'); }

export function hasWireguard(): boolean { return which('wireguard-go') && which('wg') && existsSync('/dev/net/tun'); }

export interface WgLab { ifA: string; ifB: string; innerA: string; innerB: string; stop(): void }

/**
 * A point-to-point WireGuard tunnel between the lab's namespaces with userspace wireguard-go (A is the
 * initiator with B's veth address as Endpoint). Interface names are unique because wireguard-go's
 * control sockets live in the shared /var/run/wireguard.
 */
export async function startWireguard(lab: Lab): Promise<WgLab> {
  const id = lab.ifA.slice(3);
  const wgA = `wgA${id}`.slice(0, 15), wgB = `wgB${id}`.slice(0, 15);
  const innerA = '10.99.254.1', innerB = '10.99.254.2';
  const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
  const pub = (k: string) => execFileSync('wg', ['pubkey'], { encoding: 'utf8', input: k }).trim();
  const kA = key(), kB = key();
  writeFileSync(join(lab.dir, 'wgA.key'), kA, { mode: 0o600 });
  writeFileSync(join(lab.dir, 'wgB.key'), kB, { mode: 0o600 });
  const env = { ...process.env, WG_PROCESS_FOREGROUND: '1', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };
  const procs = [[lab.nsA, wgA], [lab.nsB, wgB]].map(([ns, dev]) => spawn('ip', ['netns', 'exec', ns!, 'wireguard-go', '-f', dev!], { env, stdio: 'ignore' }));
  const stop = () => { for (const p of procs) p.kill('SIGTERM'); };
  try {
    for (const dev of [wgA, wgB]) {
      for (let i = 0; i < 100 && !existsSync(`/var/run/wireguard/${dev}.sock`); i++) await sleep(50);
    }
    lab.exec(lab.nsB, ['wg', 'set', wgB, 'private-key', join(lab.dir, 'wgB.key'), 'listen-port', '51820', 'peer', pub(kA), 'allowed-ips', `${innerA}/32`]);
    lab.exec(lab.nsA, ['wg', 'set', wgA, 'private-key', join(lab.dir, 'wgA.key'), 'listen-port', '51821', 'peer', pub(kB), 'allowed-ips', `${innerB}/32`, 'endpoint', `${lab.addrB}:51820`]);
    for (const [ns, dev, addr] of [[lab.nsA, wgA, innerA], [lab.nsB, wgB, innerB]] as const) {
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (e) { stop(); throw e; }
  return { ifA: wgA, ifB: wgB, innerA, innerB, stop };
}
