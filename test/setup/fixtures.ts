/**
 * Vitest global setup: makes sure every fixture model exists (built once, then cached by a
 * hash stamp), so `npm test` works on a fresh clone without a separate step.
 */
import { ensureFixture } from '../fixtures/build/index.ts';
import { FIXTURES } from '../fixtures/build/registry.ts';

export default async function setup(): Promise<void> {
  for (const f of FIXTURES) {
    const t0 = performance.now();
    const how = await ensureFixture(f);
    if (how === 'built') console.log(`fixture ${f.name} built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
