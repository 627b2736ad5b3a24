// Runs `tandem` from the sources, as bin/tandem runs the bundle: the hostile tests start it as a child
// process (with a heap limit and a timeout) so a hang or a blown heap fails the test, not the runner.
// With TANDEM_REPORT_RSS=1 it ends stderr with "rss-kb=N", the process's peak resident size.
import { main } from '../../bin/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
if (process.env.TANDEM_REPORT_RSS === '1') process.stderr.write(`rss-kb=${process.resourceUsage().maxRSS}\n`);
