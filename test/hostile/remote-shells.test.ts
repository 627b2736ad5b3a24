// Issue 13 item 7: the far-end command must mean the same under any login shell. A real OpenSSH server
// runs in the lab's namespace B with root's login shell set to bash, dash and fish in turn (a private
// mount namespace sees a copy of /etc whose passwd names that shell; the machine's own files are not
// touched). Hostile capture filters must reach tcpdump as one argument and run nothing, and a plain
// capture must still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteCapture, RemoteCaptureError, type RemoteCaptureOptions } from '../../electron/capture/remote.ts';
import { createLab, sleep, startSshd, type Lab, type Sshd } from '../integration/capture/lab.ts';

const SHELLS = ['/usr/bin/bash', '/usr/bin/dash', '/usr/bin/fish'];
/** Also checked when installed (zsh; tcsh, whose quoting and history rules differ most). */
const OPTIONAL = ['/usr/bin/zsh', '/usr/bin/tcsh'].filter((f) => existsSync(f));

function skipWhy(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs Linux and root (network and mount namespaces)';
  for (const f of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/unshare', '/usr/bin/tcpdump', ...SHELLS]) {
    if (!existsSync(f) && !existsSync(f.replace('/usr/bin/', '/usr/sbin/'))) return `${f} is not installed${f.endsWith('fish') ? ' (apt-get install -y fish)' : ''}`;
  }
  return null;
}
const skip = skipWhy();
if (skip) console.log(`# skipping far-end shell tests: ${skip}`);
else if (OPTIONAL.length < 2) console.log('# zsh or tcsh not installed: the far-end shell test covers bash, dash and fish only');

function sshArgsFor(lab: Lab, s: Sshd): string[] {
  return ['netns', 'exec', lab.nsA, 'ssh', '-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${s.knownHosts}`,
    '-i', s.key, '-o', 'IdentitiesOnly=yes', '-p', String(s.port), `root@${lab.addrB}`];
}

test(`far-end capture: hostile filters run nothing and reach tcpdump whole under bash, dash and fish login shells${OPTIONAL.length ? ` (and ${OPTIONAL.map((f) => f.split('/').pop()).join(', ')})` : ''}`, { skip: skip ?? false, timeout: 180_000 }, async () => {
  const lab = createLab();
  const servers: Sshd[] = [];
  try {
    for (const [n, shell] of [...SHELLS, ...OPTIONAL].entries()) {
      const s = await startSshd(lab, lab.nsB, lab.addrB, 2300 + n, shell);
      servers.push(s);
      // The login shell really is the one under test: each answers a probe only it understands that way.
      const name = shell.split('/').pop()!;
      const [probeCmd, expect] = name === 'fish' ? ['echo fish=$FISH_VERSION', /fish=\d/] : name === 'tcsh' ? ['echo $version', /^tcsh /] : ['echo $0', new RegExp(`^-?(${shell}|${name})$`, 'm')];
      const probe = spawnSync('ip', [...sshArgsFor(lab, s), probeCmd], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(probe.status, 0, probe.stderr);
      assert.match(probe.stdout, expect, `${shell}: ${probe.stdout}`);

      const pwned = join(lab.dir, `pwned-${n}`);
      const filters = [
        `x\\' ; touch ${pwned} ; #`,
        `x' ; touch ${pwned} ; #`,
        `x ; touch ${pwned} ; !! !-1`,
        `x\\'\\'; touch ${pwned}; echo '`,
        `$(touch ${pwned})`, `\`touch ${pwned}\``, `x" ; touch ${pwned} ; "`, `x; begin; touch ${pwned}; end`,
        `x\ntouch ${pwned}`, `(touch ${pwned})`, `x & touch ${pwned} &`, `x | touch ${pwned}`,
      ];
      const base: RemoteCaptureOptions = {
        host: lab.addrB, user: 'root', port: s.port, identityFile: s.key, knownHostsFile: s.knownHosts, interface: lab.ifB,
        spoolPath: join(lab.dir, `remote-${n}.pcapng`), ssh: ['ip', 'netns', 'exec', lab.nsA, 'ssh'], connectTimeoutSec: 30,
      };
      // The optional shells get the quote-breaking forms only, to keep the run short.
      for (const filter of n < SHELLS.length ? filters : filters.slice(0, 5)) {
        const r = new RemoteCapture({ ...base, filter });
        // tcpdump itself rejects each of these as a filter: the proof that the whole text reached it as one argument.
        await assert.rejects(r.started, (e: Error) => {
          assert.ok(e instanceof RemoteCaptureError, String(e));
          assert.equal(e.kind, 'filter', `${shell}, filter ${JSON.stringify(filter)}: ${e.message}`);
          return true;
        });
        await assert.rejects(r.done);
        assert.equal(existsSync(pwned), false, `${shell}: filter ${JSON.stringify(filter)} ran a command`);
      }
      // A hostile tcpdump path or interface is data too: it is looked up as a name, never run as code.
      for (const extra of [{ tcpdump: `tcpdump; touch ${pwned}` }, { interface: `x;touch ${pwned}` }]) {
        const r = new RemoteCapture({ ...base, filter: 'udp', ...extra });
        await assert.rejects(r.started);
        await assert.rejects(r.done);
        assert.equal(existsSync(pwned), false, `${shell}: ${JSON.stringify(extra)} ran a command`);
      }
      // And an ordinary capture still works through the same fixed command.
      const good = new RemoteCapture({ ...base, filter: `udp port ${5600 + n}` });
      await good.started;
      await lab.sendUdp(lab.nsA, lab.addrB, 5600 + n, 5, 2);
      for (let i = 0; i < 200 && good.packets < 5; i++) await sleep(50);
      const sum = await good.stop();
      assert.equal(sum.packets, 5, `${shell}: packets captured`);
      assert.deepEqual(sum.remote, { captured: 5, receivedByFilter: 5, droppedByKernel: 0 }, shell);
    }
  } finally {
    for (const s of servers) s.stop();
    lab.cleanup();
  }
});
