// Playwright reporter that writes pass/fail/skip totals to out/test-counts/e2e.json
// (read by scripts/test.mjs for the closing summary line).
import { mkdirSync, writeFileSync } from 'node:fs';

export default class CountReporter {
  constructor() { this.c = { passed: 0, failed: 0, skipped: 0 }; }
  onTestEnd(test, result) {
    if (result.retry < test.retries && result.status === 'failed') return; // a retry follows
    if (result.status === 'passed') this.c.passed++;
    else if (result.status === 'skipped') this.c.skipped++;
    else this.c.failed++;
  }
  onEnd() {
    mkdirSync('out/test-counts', { recursive: true });
    writeFileSync('out/test-counts/e2e.json', JSON.stringify(this.c));
  }
  printsToStdio() { return false; }
}
