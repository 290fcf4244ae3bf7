/**
 * A self-check of the GPU path: the adapter, and one of our kernels run on it against its CPU
 * twin. What a user runs first when results look wrong or slow.
 */
import { beginEncoding, submit } from '../gpu/encode.ts';
import { encodeMaskedMean } from '../gpu/pooling.ts';
import { readF32, storageF32, uploadF32 } from '../gpu/transfer.ts';
import { maskedMeanPool } from '../reference/masked-mean.ts';
import { probeAdapter, requestDevice, type AdapterReport } from '../runtime/adapter.ts';

export interface Diagnosis {
  adapter: AdapterReport;
  /** the masked-mean kernel's largest difference from the CPU reference, when it could run */
  kernelMaxAbsDiff?: number;
  /** true when the kernel ran and agreed with the reference within 1e-5 */
  kernelsOk: boolean;
  /** where this ran: 'worker' or 'in-process' */
  context: string;
}

export async function diagnose(context: string): Promise<Diagnosis> {
  const { report, adapter } = await probeAdapter();
  if (!adapter) return { adapter: report, kernelsOk: false, context };
  const device = await requestDevice(adapter);
  try {
    const batch = 3, tokens = 5, size = 70;
    const hidden = Float32Array.from({ length: batch * tokens * size }, (_, i) => Math.sin(i * 0.37));
    const weights = Float32Array.from({ length: batch * tokens }, (_, i) => (i % tokens < 1 + (i % 3) ? 1 : 0));
    const h = uploadF32(device, hidden), w = uploadF32(device, weights), out = storageF32(device, batch * size);
    const enc = beginEncoding(device, 'diagnose');
    encodeMaskedMean(enc, { hidden: h, weights: w, pooled: out, batch, tokens, size });
    await submit(enc);
    const gpu = await readF32(device, out, batch * size);
    const cpu = maskedMeanPool(hidden, weights, batch, tokens, size);
    let diff = 0;
    for (let i = 0; i < gpu.length; i++) diff = Math.max(diff, Math.abs(gpu[i]! - cpu[i]!));
    return { adapter: report, kernelMaxAbsDiff: diff, kernelsOk: diff <= 1e-5, context };
  } finally {
    device.destroy();
  }
}
