// Runs `tandem capture` from the sources (the tests start it inside a namespace with `ip netns exec`).
import { captureCommand } from '../../../bin/cli/capture.ts';
import { UsageError } from '../../../bin/cli/io.ts';

try {
  process.exitCode = await captureCommand(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`error: ${e.message}\n`);
  process.exitCode = 2;
}
