/**
 * Test seams, for the library's own test pages only: no option, argument or export reaches them.
 * A test sets them on the global object of the context the engine runs in (the page with
 * `worker: false`, or the library's worker through the browser driver, as the fault pages reach
 * ORT's GPU device to destroy it):
 *
 *   globalThis[Symbol.for('webgpu-embed.test-hooks')] = { corruptWebGpuOutput: true };
 *
 * - corruptWebGpuOutput: every vector read back from the WebGPU path is negated, as a broken
 *   kernel or export would leave it (cosine -1 to the right one), so the self-check's actions can
 *   be tested on a WebGPU that computes correctly.
 */
export interface TestHooks {
  corruptWebGpuOutput?: boolean;
}

const KEY = Symbol.for('webgpu-embed.test-hooks');

export function testHooks(): TestHooks | undefined {
  return (globalThis as { [KEY]?: TestHooks })[KEY];
}
