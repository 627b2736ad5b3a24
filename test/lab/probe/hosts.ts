// Lab hosts for the probe tests: each "host" is a network namespace plus a mount namespace of its
// own, held open by one sleeping process, with a private /run and /var/log. That keeps what a real
// machine keeps to itself private here too: wireguard-go's control sockets (/run/wireguard, so
// `wg show all` lists this host's wg0 only), charon's vici socket and pid file, sshd's privilege
// separation directory, and charon's log file. Every command for a host runs through nsenter into
// both namespaces, so an sshd started there gives its sessions the same view.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function which(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0;
}

/** Why these labs cannot run here (not root, a missing tool), or null. */
export function whyNot(tools: readonly string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const missing = tools.filter((t) => (t.startsWith('/') ? !existsSync(t) : !which(t)));
  return missing.length > 0 ? `missing ${missing.join(', ')}` : null;
}

export interface Sshd { port: number; addr: string; proc: ChildProcess }

export class Host {
  readonly holder: ChildProcess;
  readonly procs: ChildProcess[] = [];
  constructor(readonly lab: Lab, readonly name: string, readonly ns: string) {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // `ip netns exec` gives the holder a new mount namespace (slave to the root one): mounts made in
    // it stay in it. The marker file says the mounts are in place.
    const ready = join(lab.dir, `${name}.ready`);
    this.holder = spawn('ip', ['netns', 'exec', ns, 'sh', '-c',
      'mount -t tmpfs tandem-run /run && mkdir -p /run/sshd /run/wireguard && mount -t tmpfs tandem-log /var/log && touch "$1" && exec sleep infinity',
      'holder', ready], { stdio: 'ignore' });
    const t0 = Date.now();
    while (!existsSync(ready)) {
      if (this.holder.exitCode !== null || Date.now() - t0 > 5000) throw new Error(`host ${name}: its namespace holder did not start`);
      spawnSync('sleep', ['0.02']);
    }
  }

  private enter(argv: readonly string[]): string[] {
    return ['-t', String(this.holder.pid), '-m', '-n', '--', ...argv];
  }

  /** Runs a command on this host; throws with its stderr when it fails. */
  run(argv: readonly string[], input?: string): string {
    const r = spawnSync('nsenter', this.enter(argv), { encoding: 'utf8', input, timeout: 30_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`${this.name}: ${argv.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
    return r.stdout;
  }

  /** Runs a command and returns its exit code and output, whatever it is. */
  try(argv: readonly string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('nsenter', this.enter(argv), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** A long-running process on this host, ended by the lab's cleanup. */
  spawn(argv: readonly string[], env?: NodeJS.ProcessEnv, log?: string): ChildProcess {
    const p = spawn('nsenter', this.enter(argv), { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (c: Buffer) => { err += c.toString(); if (err.length > 20_000) err = err.slice(-10_000); });
    p.on('exit', () => { if (log !== undefined) { try { writeFileSync(log, err); } catch { /* the lab folder is gone */ } } });
    (p as ChildProcess & { errText: () => string }).errText = () => err;
    this.procs.push(p);
    return p;
  }

  /** An sshd on ADDR:PORT with the lab's host key, accepting the lab's client key for root. */
  async startSshd(addr: string, port: number): Promise<Sshd> {
    const d = this.lab.sshDir;
    const config = join(this.lab.dir, `${this.name}-sshd_config`);
    writeFileSync(config, [
      `Port ${port}`, `ListenAddress ${addr}`, `HostKey ${join(d, 'host')}`, `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
      'StrictModes no', `PidFile /run/sshd-${port}.pid`, 'LogLevel ERROR', 'MaxStartups 50', 'MaxSessions 50', '',
    ].join('\n'));
    const proc = this.spawn(['/usr/sbin/sshd', '-D', '-e', '-f', config]);
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) throw new Error(`sshd on ${this.name} exited: ${(proc as unknown as { errText: () => string }).errText()}`);
      if (this.run(['ss', '-Hltn']).includes(`${addr}:${port}`)) {
        // Known to the client under the name the probe will use.
        const pub = readFileSync(join(d, 'host.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
        writeFileSync(this.lab.knownHosts, `[${addr}]:${port} ${pub}\n`, { flag: 'a' });
        return { port, addr, proc };
      }
      await sleep(50);
    }
    throw new Error(`sshd on ${this.name} did not listen on ${addr}:${port}`);
  }
}

const live = new Set<Lab>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Whatever way the test process ends, the namespaces, daemons and sshd go with it.
  process.on('exit', () => { for (const l of live) l.cleanup(); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { for (const l of live) l.cleanup(); process.exit(130); });
  }
}

export class Lab {
  readonly id = (process.pid & 0xffff).toString(16).padStart(4, '0') + Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  readonly dir: string;
  readonly sshDir: string;
  readonly key: string;
  readonly knownHosts: string;
  readonly hosts: Host[] = [];
  private cleaned = false;

  constructor(readonly tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), `tandem-probe-${tag}-`));
    this.sshDir = join(this.dir, 'ssh');
    mkdirSync(this.sshDir);
    const keygen = (f: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tandem-probe-lab', '-f', join(this.sshDir, f)]);
    keygen('host'); keygen('id');
    writeFileSync(join(this.sshDir, 'authorized_keys'), readFileSync(join(this.sshDir, 'id.pub')));
    this.key = join(this.sshDir, 'id');
    this.knownHosts = join(this.sshDir, 'known_hosts');
    writeFileSync(this.knownHosts, '');
    live.add(this);
    hookExit();
  }

  host(name: string): Host {
    const ns = `tpr-${this.id}-${name}`;
    try {
      const h = new Host(this, name, ns);
      this.hosts.push(h);
      return h;
    } catch (e) {
      // Half made: the namespace exists but no host holds it for cleanup.
      for (const pid of (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      spawnSync('ip', ['netns', 'del', ns]);
      throw e;
    }
  }

  /** A cable between two hosts. */
  veth(a: Host, ifA: string, b: Host, ifB: string): void {
    execFileSync('ip', ['-n', a.ns, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns]);
    execFileSync('ip', ['-n', a.ns, 'link', 'set', ifA, 'up']);
    execFileSync('ip', ['-n', b.ns, 'link', 'set', ifB, 'up']);
  }

  /** What is still there after cleanup: namespaces, processes (sshd, daemons, holders), the folder. */
  async leftovers(): Promise<string[]> {
    const pids = this.hosts.flatMap((h) => [h.holder, ...h.procs]).map((p) => p.pid).filter((p): p is number => p !== undefined);
    const alive = () => pids.filter((p) => {
      try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8')); } catch { return false; }
    });
    for (let i = 0; i < 40 && alive().length > 0; i++) await sleep(50);
    const netns = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]);
    return [
      ...this.hosts.filter((h) => netns.includes(h.ns)).map((h) => `namespace ${h.ns}`),
      ...alive().map((p) => `process ${p} (${readFileSync(`/proc/${p}/comm`, 'utf8').trim()})`),
      ...(existsSync(this.dir) && process.env.TANDEM_PROBE_LAB_KEEP === undefined ? [`folder ${this.dir}`] : []),
    ];
  }

  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    for (const h of this.hosts) for (const p of h.procs) { try { p.kill('SIGTERM'); } catch { /* gone */ } }
    for (const h of this.hosts) {
      // Everything still in the namespace (the probe's own captures over ssh included), then the holder.
      const pids = (spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean);
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      try { h.holder.kill('SIGKILL'); } catch { /* gone */ }
      spawnSync('ip', ['netns', 'del', h.ns]);
    }
    if (process.env.TANDEM_PROBE_LAB_KEEP === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
