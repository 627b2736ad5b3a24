// node:test reporter that writes the pass/fail/skip totals as JSON (for the closing summary line).
export default async function* countReporter(source) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for await (const ev of source) {
    // Count leaf tests only: suites report as tests too, with `details.type === 'suite'`.
    if (ev.type === 'test:pass' && ev.data.details?.type !== 'suite') {
      if (ev.data.skip || ev.data.todo) c.skipped++; else c.passed++;
    } else if (ev.type === 'test:fail' && ev.data.details?.type !== 'suite') c.failed++;
  }
  yield JSON.stringify(c);
}
