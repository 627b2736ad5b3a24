// `tandem` command dispatcher.
import { UsageError } from './io.ts';
import { visible } from '../../shared/util/shell.ts';
import { inspect } from './inspect.ts';
import { analyzeCommand } from './analyze.ts';
import { EXPORT_HELP } from './export.ts';
import { captureCommand } from './capture.ts';
import { probeCommand, PROBE_HELP } from './probe.ts';

const HELP = `tandem — two-ended capture analysis (WireGuard, IPsec)

usage:
  tandem inspect FILE [--links ip-link.txt] [--json] [--max-inflate SIZE]
      Decode a capture (pcap, pcapng, gzip'd, or tcpdump -n text) and list its packets.
      --json prints one JSON object per frame; --links maps SLL2 interface indexes to names.
      --max-inflate SIZE (inspect, analyze): a .gz capture may inflate to SIZE (e.g. 8G); by default reading
        stops past 4 GiB or past 100 times the compressed size read, whichever comes first (a gzip bomb).
  tandem analyze A_FILE B_FILE [--a-links F] [--b-links F] [--flow "tcp 192.168.200.22:80"] [--json FILE|-]
      Align both ends, label checkpoints, follow the test flow hop by hop and give a verdict.
      Which host initiated comes from the packets; when they contradict the order given, the roles are swapped
      (a note on stderr, captures.X.role_swapped in JSON). --keep-order analyses them as given.
${EXPORT_HELP}
  tandem capture -i IFACE [-i IFACE…] [-f FILTER] -w FILE.pcapng [-c N] [-G SECONDS] [--remote …] [--list]
      Capture live through libpcap (needs CAP_NET_RAW) in a helper process; every packet is spooled to FILE as it arrives.
  tandem capture --setup-privileges
      Print (not run) the commands that give capture rights to a dedicated runtime for one group, and how to undo them.
${PROBE_HELP}

Exit status: 0 success, 1 damaged input (everything before the damage is still printed), 2 usage error.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'inspect': return await inspect(rest);
      case 'analyze': return await analyzeCommand(rest);
      case 'capture': return await captureCommand(rest);
      case 'probe': return await probeCommand(rest);
      case undefined: case '-h': case '--help': case 'help':
        process.stdout.write(HELP + '\n');
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}" (try: tandem --help)`);
    }
  } catch (e) {
    // Messages may quote a file name or a value from the command line: no control byte reaches the terminal.
    if (e instanceof UsageError) { process.stderr.write(`error: ${visible(e.message)}\n`); return 2; }
    // Anything else is our bug: still one line for the user; details only on request.
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: internal failure: ${visible(msg)}\n`);
    if (process.env.TANDEM_DEBUG) console.error(e);
    return 3;
  }
}
