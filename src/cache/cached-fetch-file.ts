/**
 * The cached FetchFile: a model file from IndexedDB when it is there and intact, else from the
 * network — streamed into one buffer of its final size and stored chunk by chunk as it arrives, so
 * a cut download resumes (HTTP Range) from its last stored chunk, in this call or a later one.
 *
 *   read meta ──complete, intact──▶ bytes (no request)
 *      │ else
 *   lock the file (Web Locks: one download per file across tabs) ─▶ read meta again (another tab may have finished)
 *      │ partial or damaged: keep the intact chunks, Range-request the missing runs (206), or start over (200)
 *      │ absent: GET, store chunks as they fill, mark complete last
 *
 * A 404 or a web page where a file should be is remembered too (kind 'missing' / 'html'), so a
 * warm load of a folder without, say, modules.json makes no request at all. `revalidate` asks the
 * server instead (If-None-Match with the stored ETag: 304 keeps the cache).
 */
import { ModelFileIsHtmlError, ModelFileNotFoundError, ModelLoadError } from '../errors.ts';
import { createFetchFile } from '../io/fetch-file.ts';
import { answerError, bodyFacts, conditional, contentRange, discardBody, ifRange, isDownloadCut, isHtml, readBody, send, streamInto, type BodyFacts } from '../io/http.ts';
import type { FetchFile, FileStage } from '../io/types.ts';
import { createChunkWriter, readChunks, writeAll, type ChunkWriter } from './chunks.ts';
import { chunkCount, chunkSpan, DEFAULT_CHUNK_SIZE, metaProblem } from './integrity.ts';
import { fileLocks } from './locks.ts';
import { evictFor } from './manage.ts';
import type { CachedFetchFileOptions, CacheStats } from './options.ts';
import { askPersistence, availableBytes, isQuotaExceeded, platformStorage, quotaError } from './quota.ts';
import { createSha256 } from './sha256.ts';
import { allMetas, deleteFile, dropChunks, getMeta, putMeta, storedBytes, touchModel, weightStore, type FileMeta, type UseStore } from './store.ts';

export interface CachedFetchFile extends FetchFile {
  /** counts since this FetchFile was made */
  readonly stats: CacheStats;
}

interface Job {
  url: string;
  key: string;
  model: string;
  signal: AbortSignal | undefined;
  onBytes: ((done: number, total: number | undefined) => void) | undefined;
  onStage: ((stage: FileStage) => void) | undefined;
  /** the stages told so far: each once per call, though a file may be looked up twice (before and under its lock) */
  told: Set<string>;
  pin: string | undefined;
}

function tell(job: Job, stage: FileStage): void {
  const key = stage.stage === 'verify' ? `verify:${stage.check}` : stage.stage;
  if (job.told.has(key)) return;
  job.told.add(key);
  job.onStage?.(stage);
}

/**
 * Makes a FetchFile that serves model files from the IndexedDB weight cache, downloading (and
 * storing) what is not there.
 *
 * @example
 * const fetchFile = createCachedFetchFile({ maxBytes: 2e9 });
 * const model = await loadModel('https://host/models/e5-small/', { fetchFile });
 * fetchFile.stats; // { hits: 0, misses: 7, bytesFromNetwork: 118_000_000, bytesFromCache: 0 } on the first load
 */
export function createCachedFetchFile(options: CachedFetchFileOptions = {}): CachedFetchFile {
  const store = options.store ?? weightStore();
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const withLock = fileLocks(options.locks);
  const storage = options.storage === null ? undefined : (options.storage ?? platformStorage());
  const full = options.verify === 'full';
  const retries = options.retries ?? 2;
  const stats: CacheStats = { hits: 0, misses: 0, bytesFromNetwork: 0, bytesFromCache: 0 };
  const touched = new Set<string>();
  let persisted: Promise<unknown> | undefined;
  // Where IndexedDB cannot be opened (some private modes), files come from the network as they would without a cache.
  let usable: Promise<boolean> | undefined;
  const network = createFetchFile(fetchImpl);
  // The browser's HTTP cache is bypassed: the bytes are kept in IndexedDB, a second copy there would only take room.
  const request = (url: string, headers: Record<string, string>, signal: AbortSignal | undefined) => send(fetchImpl, url, { headers, cache: 'no-store' }, signal);

  const touch = async (job: Job) => {
    if (touched.has(job.model)) return;
    touched.add(job.model);
    await touchModel(store, job.model).catch(() => {});
  };

  const hit = async (job: Job, bytes: Uint8Array) => {
    stats.hits++;
    stats.bytesFromCache += bytes.length;
    job.onBytes?.(bytes.length, bytes.length);
    await touch(job);
    return bytes;
  };

  /** The stored chunks of a file; a complete one is a cache hit (and, with verify 'full', a check of every chunk's hash). */
  const readStored = (job: Job, meta: FileMeta) => {
    if (meta.complete) {
      tell(job, { stage: 'cache_hit' });
      if (full) tell(job, { stage: 'verify', check: 'chunk-hashes' });
    }
    return readChunks(store, meta, full, job.signal, (n) => job.onBytes?.(n, meta.size));
  };

  /** A complete, intact file from the store; undefined when it is not (or not all) there. */
  const fromStore = async (job: Job, meta: FileMeta | undefined): Promise<Uint8Array | undefined> => {
    if (!meta || metaProblem(meta, job.key)) return undefined;
    if (meta.kind !== 'bytes') {
      stats.hits++;
      await touch(job);
      throw rememberedError(meta);
    }
    if (!meta.complete) return undefined;
    const r = await readStored(job, meta);
    return r.bad.length ? undefined : hit(job, r.buffer);
  };

  const underLock = async (job: Job): Promise<Uint8Array> => {
    let meta = await getMeta(store, job.key);
    if (meta && metaProblem(meta, job.key)) {
      await deleteFile(store, job.key);
      meta = undefined;
    }
    if (meta && meta.kind !== 'bytes') {
      if (!options.revalidate) return (await fromStore(job, meta))!;
      // A remembered 404 has no validator: ask again.
      await deleteFile(store, job.key);
      meta = undefined;
    }
    if (meta?.complete && options.revalidate) {
      const changed = await revalidate(job, meta);
      if (changed) {
        await deleteFile(store, job.key);
        return fresh(job, changed);
      }
    }
    if (!meta) return fresh(job, await request(job.url, {}, job.signal));

    const r = await readStored(job, meta);
    if (meta.complete && !r.bad.length) return hit(job, r.buffer);
    if (r.bad.length) {
      for (const i of r.bad) meta.chunks[i] = null;
      meta.complete = false;
      await dropChunks(store, meta, r.bad);
    }
    stats.misses++;
    stats.bytesFromCache += r.read;
    return fill(job, meta, r.buffer, r.have);
  };

  /** The file changed on the server: its new answer; undefined to keep the stored one (304, or the server cannot say). */
  const revalidate = async (job: Job, meta: FileMeta): Promise<Response | undefined> => {
    let res: Response;
    try {
      res = await request(job.url, conditional(meta), job.signal);
    } catch (err) {
      if (job.signal?.aborted) throw err;
      return undefined; // offline: the stored file stands
    }
    const same = res.status === 304 || res.status >= 500 || (res.ok && !!meta.etag && res.headers.get('etag') === meta.etag);
    if (!same) return res;
    await discardBody(res);
    return undefined;
  };

  /** A file from a first answer (a GET, or a 200 to a Range request). */
  const fresh = async (job: Job, res: Response, counted = false): Promise<Uint8Array> => {
    if (!counted) stats.misses++;
    if (res.status === 404 || (res.ok && isHtml(res))) {
      await discardBody(res);
      await putMeta(store, negative(job, res)).catch(() => {});
      throw answerError(job.url, res);
    }
    if (!res.ok || res.status === 206) {
      await discardBody(res);
      throw answerError(job.url, res);
    }
    tell(job, { stage: 'download' });
    const facts = bodyFacts(res);
    if (facts.size === undefined) return whole(job, res, facts);
    const meta = newMeta(job, facts, facts.size);
    const buffer = new Uint8Array(facts.size);
    return fill(job, meta, buffer, meta.chunks.map(() => false), res);
  };

  /** A body of unknown length: read whole, then stored (a cut one cannot resume). */
  const whole = async (job: Job, res: Response, facts: BodyFacts): Promise<Uint8Array> => {
    const bytes = await readBody(job.url, res, undefined, job.signal, (n) => {
      job.onBytes?.(n, undefined);
    });
    stats.bytesFromNetwork += bytes.length;
    const meta = newMeta(job, { ...facts, ranges: false }, bytes.length);
    await checkPin(job, meta, bytes, undefined);
    const writer = await openWriter(job, meta, bytes, 0);
    await writeAll(writer, meta.chunks.length);
    await writer.complete(job.pin);
    await touch(job);
    return bytes;
  };

  /**
   * Fills the missing chunks of `buffer`: from `first` (an answer for the whole file) if given,
   * then with Range requests for each missing run. A cut answer is resumed from its last complete
   * chunk, up to `retries` times; a 200 to a Range request (no Range support, or a changed file)
   * starts the file over from that answer.
   */
  const fill = async (job: Job, meta: FileMeta, buffer: Uint8Array, have: boolean[], first?: Response): Promise<Uint8Array> => {
    const writer = await openWriter(job, meta, buffer, storedBytes(meta));
    let pending = first;
    let cuts = 0;
    try {
      for (;;) {
        const run = firstMissingRun(have);
        if (!run) break;
        const [from] = chunkSpan(meta, run[0]);
        const to = chunkSpan(meta, run[1] - 1)[1];
        let res: Response;
        if (pending) {
          res = pending;
          pending = undefined;
        } else {
          const range = `bytes=${from}-${to === meta.size ? '' : to - 1}`;
          res = await request(job.url, { Range: range, ...ifRange(meta) }, job.signal);
          if (!rangeAnswered(res, meta, from, to)) {
            await writer.discard();
            if (res.status === 200) return await fresh(job, res, true);
            await discardBody(res);
            if (res.status === 416) return await fresh(job, await request(job.url, {}, job.signal), true);
            throw answerError(job.url, res);
          }
        }
        tell(job, { stage: 'download' });
        // Progress counts every byte in the buffer: cached, earlier runs, this one so far.
        const before = have.reduce((n, h, i) => (h ? n + chunkSpan(meta, i)[1] - chunkSpan(meta, i)[0] : n), 0);
        let next = run[0];
        try {
          await streamInto(job.url, res, buffer, from, to, job.signal, async (position, received) => {
            stats.bytesFromNetwork += received;
            job.onBytes?.(before + position - from, meta.size);
            for (; next < run[1] && chunkSpan(meta, next)[1] <= position; next++) {
              have[next] = true;
              await writer.commit(next);
            }
          });
        } catch (err) {
          if (!isDownloadCut(err) || job.signal?.aborted || ++cuts > retries) throw err;
        }
      }
      if (pending) await discardBody(pending);
      await writer.flush();
      await checkPin(job, meta, buffer, writer);
      await writer.complete(job.pin);
      await touch(job);
      return buffer;
    } catch (err) {
      // What was stored stays (a later load resumes from it), once its writes are done.
      await writer.flush().catch(() => {});
      throw err;
    }
  };

  /** Decides whether this file is stored (room by maxBytes and the storage estimate) and starts its writer. */
  const openWriter = async (job: Job, meta: FileMeta, buffer: Uint8Array, alreadyStored: number): Promise<ChunkWriter> => {
    const needed = meta.size - alreadyStored;
    const onNoRoom = (cause: unknown, available?: number) => {
      if (options.onQuotaExceeded === 'memory') return 'memory' as const;
      return quotaError(job.url, needed, available, cause);
    };
    let storing = true;
    if (options.maxBytes !== undefined) {
      storing = meta.size <= options.maxBytes && (await evictFor(store, needed, options.maxBytes, job.model).catch(() => false));
    }
    if (storing && needed > 0) {
      const available = await availableBytes(storage);
      if (available !== undefined && needed > available) {
        const outcome = onNoRoom(undefined, available);
        if (outcome !== 'memory') throw outcome;
        storing = false;
      }
    }
    if (storing && options.persist) await (persisted ??= askPersistence(storage));
    if (storing && alreadyStored === 0) {
      // A new file: older revisions of the same URL go, and the record exists before any chunk.
      try {
        await dropOtherRevisions(job);
        await putMeta(store, meta);
      } catch (err) {
        const outcome = isQuotaExceeded(err) ? onNoRoom(err) : 'memory';
        if (outcome !== 'memory') throw outcome;
        storing = false;
      }
    }
    if (!storing) await deleteFile(store, job.key).catch(() => {});
    return createChunkWriter(store, meta, buffer, storing, (cause) => onNoRoom(cause));
  };

  const dropOtherRevisions = async (job: Job) => {
    const others = (await allMetas(store)).filter((m) => m.url === job.url && m.key !== job.key);
    for (const m of others) await deleteFile(store, m.key);
  };

  const checkPin = async (job: Job, meta: FileMeta, buffer: Uint8Array, writer: ChunkWriter | undefined) => {
    if (!job.pin) return;
    tell(job, { stage: 'verify', check: 'sha256' });
    const hash = createSha256();
    for (let i = 0; i < meta.chunks.length; i++) hash.update(buffer.subarray(...chunkSpan(meta, i)));
    const got = hash.digest();
    if (got === job.pin.toLowerCase()) return;
    await writer?.discard();
    throw new ModelLoadError(
      `${job.url} has SHA-256 ${got}, but the model's preset pins ${job.pin}: the file on the server is not the one the preset was made for (or it was damaged on the way). Nothing was cached; check the model folder or update the preset.`,
      job.url,
    );
  };

  const newMeta = (job: Job, facts: BodyFacts, size: number): FileMeta => ({
    key: job.key,
    url: job.url,
    model: job.model,
    ...(options.revision ? { revision: options.revision } : {}),
    kind: 'bytes',
    size,
    chunkSize,
    chunks: new Array<string | null>(chunkCount(size, chunkSize)).fill(null),
    complete: false,
    ...(facts.etag ? { etag: facts.etag } : {}),
    ...(facts.lastModified ? { lastModified: facts.lastModified } : {}),
    ranges: facts.ranges,
    storedAt: Date.now(),
  });

  const negative = (job: Job, res: Response): FileMeta => ({
    key: job.key,
    url: job.url,
    model: job.model,
    kind: res.status === 404 ? 'missing' : 'html',
    size: 0,
    chunkSize,
    chunks: [],
    complete: true,
    ranges: false,
    ...(res.headers.get('content-type') ? { contentType: res.headers.get('content-type')! } : {}),
    storedAt: Date.now(),
  });

  const keyOf = (url: string) => (options.revision ? `${url}@${options.revision}` : url);
  const storeUsable = () => (usable ??= getMeta(store, '').then(() => true, () => false));

  const fetchFile = (async (url, opts = {}) => {
    const { signal, onBytes, onStage } = opts;
    signal?.throwIfAborted();
    const job: Job = {
      url,
      key: keyOf(url),
      model: options.model ?? new URL('./', url).href,
      signal,
      onBytes,
      onStage,
      told: new Set(),
      pin: options.sha256?.[url],
    };
    if (!(await storeUsable())) {
      const bytes = await network(url, opts);
      stats.misses++;
      stats.bytesFromNetwork += bytes.length;
      return bytes;
    }
    if (!options.revalidate) {
      const bytes = await fromStore(job, await getMeta(store, job.key));
      if (bytes) return bytes;
    }
    return withLock(job.key, signal, () => underLock(job));
  }) as CachedFetchFile;

  // What the store remembers answers without a request; nothing is stored for a probe.
  fetchFile.probe = async (url, opts = {}) => {
    const key = keyOf(url);
    const meta = (await storeUsable()) ? await getMeta(store, key).catch(() => undefined) : undefined;
    if (meta && !metaProblem(meta, key)) {
      if (meta.kind === 'missing') return 'missing';
      if (meta.kind === 'html') return 'web-page';
      if (meta.complete) return 'file';
    }
    return network.probe!(url, opts);
  };
  return Object.assign(fetchFile, { stats });
}

/** The first run of chunks not in the buffer, as [first, end). */
function firstMissingRun(have: boolean[]): [number, number] | undefined {
  const start = have.indexOf(false);
  if (start < 0) return undefined;
  let end = start;
  while (end < have.length && !have[end]) end++;
  return [start, end];
}

/** A 206 for exactly bytes [from, to) of the same file (same size, and same ETag when both have one). */
function rangeAnswered(res: Response, meta: FileMeta, from: number, to: number): boolean {
  if (res.status !== 206) return false;
  const r = contentRange(res);
  if (!r || r.start !== from || r.end !== to - 1 || (r.total !== undefined && r.total !== meta.size)) return false;
  const etag = res.headers.get('etag');
  return !(etag && meta.etag && etag !== meta.etag);
}

/** The error a remembered 404 or web page stands for. */
function rememberedError(meta: FileMeta): ModelLoadError {
  if (meta.kind === 'html') {
    return new ModelFileIsHtmlError(
      `${meta.url} returned a web page (content-type ${meta.contentType ?? 'text/html'}) instead of the file, as remembered by the weight cache: the URL points at a page, not at the raw file.`,
      meta.url,
    );
  }
  return new ModelFileNotFoundError(`${meta.url} returned 404 (remembered by the weight cache): check the model folder URL.`, meta.url);
}
