/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

/**
 * One config for the library build and the three test layers (DESIGN.md):
 *   unit    — Node, plain logic and the CPU reference;
 *   gpu     — Node with the `webgpu` package (Dawn on SwiftShader): WGSL kernels against the reference;
 *   browser — playwright-core driving Debian's Chromium with WebGPU, pages served from 127.0.0.1.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/setup/fixtures.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          // One Chromium at a time: the machine has two cores and SwiftShader is CPU-bound.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
