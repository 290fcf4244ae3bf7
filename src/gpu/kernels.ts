/**
 * The WGSL sources, one file per kernel under kernels/, inlined as text at build time (Vite's
 * `?raw`), so an app's bundler never has to find .wgsl files of ours.
 */
import firstToken from '../../kernels/first-token.wgsl?raw';
import geglu from '../../kernels/geglu.wgsl?raw';
import halfToFloat from '../../kernels/half-to-float.wgsl?raw';
import indexScoreBinary from '../../kernels/index-score-binary.wgsl?raw';
import indexScoreF32 from '../../kernels/index-score-f32.wgsl?raw';
import indexScoreInt8 from '../../kernels/index-score-int8.wgsl?raw';
import lastToken from '../../kernels/last-token.wgsl?raw';
import latentKv from '../../kernels/latent-kv.wgsl?raw';
import layerNorm from '../../kernels/layer-norm.wgsl?raw';
import linear from '../../kernels/linear.wgsl?raw';
import maskedMean from '../../kernels/masked-mean.wgsl?raw';
import matryoshka from '../../kernels/matryoshka.wgsl?raw';
import softmax from '../../kernels/softmax.wgsl?raw';
import topK from '../../kernels/top-k.wgsl?raw';
import yesNoScore from '../../kernels/yes-no-score.wgsl?raw';

export const KERNELS = {
  maskedMean,
  firstToken,
  lastToken,
  matryoshka,
  layerNorm,
  linear,
  softmax,
  geglu,
  latentKv,
  halfToFloat,
  yesNoScore,
  indexScoreF32,
  indexScoreInt8,
  indexScoreBinary,
  topK,
} as const;

export type KernelName = keyof typeof KERNELS;
