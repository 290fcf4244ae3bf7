/**
 * The worker boundary's transfer handlers, over a real MessageChannel with comlink (Node has
 * both): typed errors keep their class, and an AbortSignal aborts its twin on the other side.
 */
import { expose, wrap } from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { DtypeNotFoundError, ModelLoadError, WebGPUUnavailableError } from '../../src/errors.ts';
import { registerTransferHandlers } from '../../src/worker/protocol.ts';

registerTransferHandlers();
const { port1, port2 } = new MessageChannel();
const service = {
  fail(kind: string) {
    if (kind === 'model') throw new ModelLoadError('no config.json at https://x/m/', 'https://x/m/config.json');
    if (kind === 'gpu') throw new WebGPUUnavailableError('no adapter');
    if (kind === 'dtype') throw new DtypeNotFoundError('no onnx/model_q4.onnx', 'https://x/m/onnx/model_q4.onnx', ['fp32', 'q8']);
    if (kind === 'type') throw new TypeError('texts[3] is the number 1, not a string');
    if (kind === 'abort') throw new DOMException('stopped', 'AbortError');
    throw 'a plain string';
  },
  waitForAbort(signal: AbortSignal) {
    return new Promise<string>((resolve) => {
      if (signal.aborted) resolve(`already: ${String(signal.reason)}`);
      signal.addEventListener('abort', () => resolve(`aborted: ${(signal.reason as Error).message}`));
    });
  },
};
expose(service, port1 as unknown as Worker);
const remote = wrap<typeof service>(port2 as unknown as Worker);
afterAll(() => { port1.close(); port2.close(); });

describe('the worker protocol', () => {
  it('keeps error classes and their fields across the boundary', async () => {
    const e = await (remote.fail('model') as Promise<unknown>).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelLoadError);
    expect(e).toMatchObject({ name: 'ModelLoadError', url: 'https://x/m/config.json', message: 'no config.json at https://x/m/' });
    await expect(remote.fail('gpu')).rejects.toBeInstanceOf(WebGPUUnavailableError);
    const dtype = await (remote.fail('dtype') as Promise<unknown>).catch((x: unknown) => x);
    expect(dtype).toBeInstanceOf(DtypeNotFoundError);
    expect(dtype).toMatchObject({ url: 'https://x/m/onnx/model_q4.onnx', available: ['fp32', 'q8'] });
    await expect(remote.fail('type')).rejects.toBeInstanceOf(TypeError);
    const abort = await (remote.fail('abort') as Promise<unknown>).catch((x: unknown) => x);
    expect(abort).toBeInstanceOf(DOMException);
    expect((abort as DOMException).name).toBe('AbortError');
    await expect(remote.fail('other')).rejects.toBe('a plain string');
  });

  it('carries an AbortSignal: aborting here aborts the twin there, with the reason', async () => {
    const ac = new AbortController();
    const pending = remote.waitForAbort(ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    ac.abort(new Error('user left the page'));
    expect(await pending).toBe('aborted: user left the page');
    const done = new AbortController();
    done.abort('early');
    expect(await remote.waitForAbort(done.signal)).toBe('already: early');
  });
});
