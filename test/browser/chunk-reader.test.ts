/**
 * The weight cache's chunk reader in real Chromium (src/cache/chunk-reader.ts): a warm read of a
 * file of several chunks is delivered by the reader's own worker and equals the file on the
 * server byte for byte; a file of one chunk is read in the asking thread; where the reader's
 * script cannot start, every chunk is read in the asking thread instead, with the same bytes; a
 * read aborted midway rejects with its AbortError and the next read is whole.
 */
import { describe, expect, it } from 'vitest';
import type { ReadOutcome } from './pages/chunk-reader.ts';
import { useBrowser } from './harness/index.ts';

const ctx = useBrowser();
const PAGE = '/test/browser/pages/chunk-reader.ts';
const FILE = 'onnx/model.onnx'; // tiny-e5's: 4,083,409 bytes
const CHUNK = 256 * 1024;
const CHUNKS = Math.ceil(4_083_409 / CHUNK); // 16

const readerStarted = () => ctx.browser.logs.some((e) => e.source.startsWith('worker:') && e.source.includes('chunk-reader') && e.text === 'worker started');

describe('the chunk reader in Chromium', () => {
  it('reads a stored file of several chunks in its own worker, byte for byte', async () => {
    await ctx.call(PAGE, 'reset');
    const cold = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    expect(cold).toMatchObject({ equal: true, size: 4_083_409, bytesFromNetwork: 4_083_409, fromReader: 0, inThread: 0 });

    const warm = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    expect(warm.error).toBeUndefined();
    expect(warm).toMatchObject({ equal: true, size: 4_083_409, bytesFromCache: 4_083_409, bytesFromNetwork: 0, fromReader: CHUNKS, inThread: 0, readerFailures: 0 });
    expect(readerStarted()).toBe(true);
  });

  it('reads a file of one chunk in the asking thread', async () => {
    await ctx.call(PAGE, 'reset');
    await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', 'tokenizer.json', 1 << 20);
    const warm = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', 'tokenizer.json', 1 << 20);
    expect(warm).toMatchObject({ equal: true, size: 466_081, bytesFromCache: 466_081, fromReader: 0, inThread: 1 });
  });

  it('where the reader cannot start, reads every chunk in the asking thread, byte for byte', async () => {
    await ctx.call(PAGE, 'reset');
    await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    await ctx.call(PAGE, 'breakReader');
    const warm = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    expect(warm.error).toBeUndefined();
    expect(warm).toMatchObject({ equal: true, bytesFromCache: 4_083_409, bytesFromNetwork: 0, fromReader: 0, inThread: CHUNKS, readerFailures: 1 });
    // the server was asked for the missing script: the reader really tried to start
    expect(ctx.browser.logs.some((e) => e.source === 'http' && e.text.includes('no-such-chunk-reader.js'))).toBe(true);
  });

  it('a read aborted midway rejects with its AbortError, and the next read is whole', async () => {
    await ctx.call(PAGE, 'reset');
    await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    const stopped = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK, 1 << 20);
    expect(stopped.error).toMatchObject({ name: 'AbortError', message: 'stopped by the test' });
    expect(stopped.fromReader).toBeLessThan(CHUNKS);
    const again = await ctx.call<ReadOutcome>(PAGE, 'read', 'tiny-e5', FILE, CHUNK);
    expect(again).toMatchObject({ equal: true, bytesFromCache: 4_083_409, bytesFromNetwork: 0, fromReader: CHUNKS, inThread: 0 });
  });
});
