/**
 * Which dtypes a model folder has, looked for only when the file of the dtype asked for is missing
 * (an error path: a load that finds its file never gets here). Each other dtype's ONNX file is
 * probed, not downloaded: its first bytes at most, or what the weight cache remembers
 * (FetchFile.probe). A web page where a file should be (a single-page-app host's index.html)
 * does not count.
 */
import { DTYPES, onnxFileFor } from './onnx-files.ts';
import { isOnnxBytes } from './file-checks.ts';
import type { FetchFile } from '../io/types.ts';
import type { Dtype } from './types.ts';

/**
 * The dtypes, in DTYPES order, whose onnx/model*.onnx the folder has, besides those in `except`.
 *
 * @example
 * await dtypesInFolder('https://host/models/e5/', fetchFile, { except: ['q4'] }); // ['fp32', 'q8']
 */
export async function dtypesInFolder(baseUrl: string, fetchFile: FetchFile, o: { except?: readonly Dtype[]; signal?: AbortSignal } = {}): Promise<Dtype[]> {
  const others = DTYPES.filter((d) => !o.except?.includes(d));
  const found = await Promise.all(others.map(async (d) => ((await present(new URL(onnxFileFor(d), baseUrl).href, fetchFile, o.signal)) ? d : undefined)));
  return found.filter((d): d is Dtype => d !== undefined);
}

/** "it has 'fp32', 'q8' (onnx/model.onnx, onnx/model_quantized.onnx)" */
export function describeDtypes(dtypes: readonly Dtype[]): string {
  return `${dtypes.map((d) => `'${d}'`).join(', ')} (${dtypes.map(onnxFileFor).join(', ')})`;
}

async function present(url: string, fetchFile: FetchFile, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    if (fetchFile.probe) return (await fetchFile.probe(url, signal ? { signal } : {})) === 'file';
    // A FetchFile that cannot probe (a test's, an app's own reader): the file is read whole.
    return isOnnxBytes(await fetchFile(url, signal ? { signal } : {}));
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    return false;
  }
}
