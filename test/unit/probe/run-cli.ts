// Runs `tandem` from the sources (the probe tests start it inside a namespace with `ip netns exec`).
import { main } from '../../../bin/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
