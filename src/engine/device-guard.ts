/**
 * What the embedder and the reranker share about a lost GPU device: a session (and its GPU head)
 * lives on one GPUDevice; when that device is lost (driver reset, `device.destroy()`, the tab in
 * the background on some platforms) the loss is noted, the call in flight fails with a
 * GpuDeviceLostError that says so, and the next batch rebuilds the runtime on a new device.
 *
 * @example
 * const guard = new DeviceGuard(runtime, reload, (model, old) => buildRuntime(model, old.session.backend), () => disposed);
 * const rt = await guard.ready(signal);          // rebuilt first if the device was lost
 * try { await rt.session.run(...) } catch (e) { throw guard.explain(e) }
 */
import { GpuDeviceLostError } from '../errors.ts';
import type { LoadedModel } from '../models/types.ts';
import type { ModelSession } from '../runtime/session.ts';

/**
 * Drops a loaded model's bytes once onnxruntime and the GPU head hold them: the engine keeps no
 * copy of the model while it runs (after a device loss the model is read again).
 */
export function forgetWeights(model: LoadedModel): void {
  model.onnx = new Uint8Array(0);
  model.externalData = [];
  if (model.spec.latentAttention) model.spec.latentAttention.weights = {};
}

export interface GuardedRuntime {
  session: ModelSession;
  gpu?: { destroy(): void };
}

/** Frees a runtime's GPU head and its session. */
export async function releaseRuntime(rt: GuardedRuntime): Promise<void> {
  rt.gpu?.destroy();
  await rt.session.release();
}

export class DeviceGuard<R extends GuardedRuntime> {
  private lost?: string;
  /** how many times the runtime was rebuilt after a device loss */
  recoveries = 0;

  constructor(
    private runtime: R,
    /** reads the model again (from the weight cache or the network) */
    private readonly reload: (signal?: AbortSignal) => Promise<LoadedModel>,
    /** a new runtime for the reloaded model, on the old one's backend (the old one is already released) */
    private readonly build: (model: LoadedModel, old: R) => Promise<R>,
    private readonly disposed: () => boolean,
  ) {
    this.watch();
  }

  get current(): R {
    return this.runtime;
  }

  /** The runtime to run the next batch on: rebuilt first when its device was lost. */
  async ready(signal?: AbortSignal): Promise<R> {
    if (this.lost) await this.recover(signal);
    return this.runtime;
  }

  /** A failure caused by a device loss says so (the next call recovers); any other passes through. */
  explain(e: unknown): unknown {
    if (!this.lost) return e;
    return new GpuDeviceLostError(`the GPU device was lost during this call (${this.lost}); the next call runs on a new device`, { cause: e });
  }

  /** Frees the GPU head and the session. */
  async release(): Promise<void> {
    await releaseRuntime(this.runtime);
  }

  private watch(): void {
    const device = this.runtime.session.gpuDevice;
    // Held weakly: a device outlives the embedders and rerankers made on it (ORT keeps one while any
    // session lives), and its pending `lost` would otherwise keep every disposed one, model and all.
    const guard = new WeakRef(this);
    device?.lost.then((l) => {
      const g = guard.deref();
      if (g && !g.disposed() && g.runtime.session.gpuDevice === device) g.lost = `${l.reason}: ${l.message}`;
    });
  }

  private async recover(signal?: AbortSignal): Promise<void> {
    const old = this.runtime;
    old.gpu?.destroy();
    await old.session.release().catch(() => undefined);
    const fresh = await this.reload(signal);
    this.runtime = await this.build(fresh, old);
    forgetWeights(fresh);
    this.lost = undefined;
    this.recoveries++;
    this.watch();
  }
}
