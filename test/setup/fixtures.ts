/**
 * Vitest global setup: makes sure every fixture model exists (built once, then cached by a
 * hash stamp), so `npm test` works on a fresh clone without a separate step. Then the model zoo
 * (test/fixtures/zoo.ts: hub-style ONNX encoders with PyTorch references, built by Python in a
 * cached venv; seconds when cached, minutes the first time on a machine).
 */
import { ensureFixture } from '../fixtures/build/index.ts';
import { FIXTURES } from '../fixtures/build/registry.ts';
import { ensureZoo } from '../fixtures/zoo.ts';

export default async function setup(): Promise<void> {
  for (const f of FIXTURES) {
    const t0 = performance.now();
    const how = await ensureFixture(f);
    if (how === 'built') console.log(`fixture ${f.name} built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await ensureZoo();
}
