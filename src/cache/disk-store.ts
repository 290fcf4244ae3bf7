/**
 * The weight cache's records in a folder on the disk, for Node (`cache: { dir }`, the CLI's
 * --cache-dir): the same FileMeta / chunk / model records as the IndexedDB store (store.ts), so
 * the cache's rules — a SHA-256 per chunk, `complete` set last, pinned hashes, resumed downloads,
 * least-recently-used eviction — are the browser's, written once.
 *
 *   <dir>/files/<sha256(key)>.json          FileMeta
 *   <dir>/chunks/<sha256(key)>/<index>      the chunk's bytes
 *   <dir>/models/<sha256(folder URL)>.json  { model, lastUsed }
 *
 * IndexedDB writes a chunk and its meta in one transaction; here each record is written to a
 * temporary name and renamed into place (atomic within a file system), the chunk before the meta
 * that lists it, and a meta is removed before its chunks: a reader (this process or another) never
 * sees a meta that claims bytes the folder lacks. A crash leaves at most unlisted chunks or
 * temporary files, which the next write of that file replaces.
 *
 * Node's modules come through process.getBuiltinModule, as in src/io/local-files.ts, so a
 * browser bundle of the library imports nothing from Node.
 */
import type { FileMeta, ModelRecord, RecordStore } from './store.ts';

type NodeProcess = { getBuiltinModule?: (id: string) => unknown };

interface Node {
  fs: typeof import('node:fs').promises;
  path: typeof import('node:path');
  crypto: typeof import('node:crypto');
}

function node(): Node {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== 'function') {
    throw new TypeError("cache.dir is a folder on the disk, for Node (≥ 20.16); a browser keeps the cache in IndexedDB: leave dir out there.");
  }
  return {
    fs: (proc.getBuiltinModule('node:fs') as typeof import('node:fs')).promises,
    path: proc.getBuiltinModule('node:path') as typeof import('node:path'),
    crypto: proc.getBuiltinModule('node:crypto') as typeof import('node:crypto'),
  };
}

/**
 * @example
 * const store = diskStore('/home/me/.cache/webgpu-embed/models');
 * const fetchFile = createCachedFetchFile({ store, model: folderUrl });
 */
export function diskStore(dir: string): RecordStore {
  const { fs, path, crypto } = node();
  const root = path.resolve(dir);
  const name = (key: string) => crypto.createHash('sha256').update(key).digest('hex');
  const metaPath = (key: string) => path.join(root, 'files', `${name(key)}.json`);
  const chunkDir = (key: string) => path.join(root, 'chunks', name(key));
  const chunkPath = (key: string, index: number) => path.join(chunkDir(key), String(index));
  const modelPath = (model: string) => path.join(root, 'models', `${name(model)}.json`);

  const write = async (file: string, data: Uint8Array | string) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  };
  const read = async (file: string): Promise<Buffer | undefined> => {
    try {
      return await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  const readJson = async <T>(file: string): Promise<T | undefined> => {
    const bytes = await read(file);
    if (!bytes) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch {
      return undefined; // a damaged record is no record: the file is fetched again
    }
  };
  const list = async (folder: string) => (await fs.readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  const removeFile = async (key: string) => {
    await fs.rm(metaPath(key), { force: true });
    await fs.rm(chunkDir(key), { recursive: true, force: true });
  };

  return {
    getMeta: (key) => readJson<FileMeta>(metaPath(key)),
    putMeta: (meta) => write(metaPath(meta.key), JSON.stringify(meta)),
    async putChunk(meta, index, bytes) {
      await write(chunkPath(meta.key, index), bytes);
      await write(metaPath(meta.key), JSON.stringify(meta));
    },
    async getChunk(key, index) {
      const bytes = await read(chunkPath(key, index));
      return bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deleteFile: removeFile,
    async dropChunks(meta, indices) {
      await write(metaPath(meta.key), JSON.stringify(meta));
      for (const i of indices) await fs.rm(chunkPath(meta.key, i), { force: true });
    },
    async allMetas() {
      const folder = path.join(root, 'files');
      const metas = await Promise.all((await list(folder)).map((f) => readJson<FileMeta>(path.join(folder, f))));
      return metas.filter((m): m is FileMeta => m !== undefined);
    },
    async allModels() {
      const folder = path.join(root, 'models');
      const records = await Promise.all((await list(folder)).map((f) => readJson<ModelRecord & { model: string }>(path.join(folder, f))));
      return new Map(records.filter((r) => r !== undefined).map((r) => [r.model, { lastUsed: r.lastUsed }]));
    },
    touchModel: (model, when) => write(modelPath(model), JSON.stringify({ model, lastUsed: when })),
    async deleteModel(model, keys) {
      await fs.rm(modelPath(model), { force: true });
      for (const key of keys) await removeFile(key);
    },
    async clear() {
      for (const sub of ['files', 'chunks', 'models']) await fs.rm(path.join(root, sub), { recursive: true, force: true });
    },
  };
}
