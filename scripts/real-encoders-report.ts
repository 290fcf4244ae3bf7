/**
 * `npm run report:real-encoders`: prints the real-encoder tables (cosine to PyTorch per dtype and
 * place, retrieval) as Markdown for the README, from test-results/real-encoders.json, which
 * test/unit/real-encoders.test.ts and test/browser/real-encoders.test.ts write. A path argument
 * reads another JSON file.
 */
import { existsSync } from 'node:fs';
import { readReport, renderReport, REPORT_JSON } from '../test/unit/helpers/real-encoders-report.ts';

const path = process.argv[2] ?? REPORT_JSON;
if (!existsSync(path)) {
  console.error(`${path} does not exist: run the tests first, e.g.\n  npx vitest run --project unit test/unit/real-encoders.test.ts\n  npx vitest run --project browser test/browser/real-encoders.test.ts`);
  process.exit(1);
}
process.stdout.write(renderReport(readReport(path)));
