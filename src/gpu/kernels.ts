/**
 * The WGSL sources, one file per kernel under kernels/, inlined as text at build time (Vite's
 * `?raw`), so an app's bundler never has to find .wgsl files of ours.
 */
import maskedMean from '../../kernels/masked-mean.wgsl?raw';

export const KERNELS = {
  maskedMean,
} as const;

export type KernelName = keyof typeof KERNELS;
