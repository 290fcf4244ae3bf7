/**
 * Linear layers on the GPU (kernels/linear.wgsl): Y = X · Wᵀ (+ bias) (+ residual) with W in
 * torch layout [out, in], and the weight kept as row tiles so that a matrix past the
 * storage-binding limit (NV-Embed's projections run to 512 MiB in f32) still runs: one dispatch
 * per tile, each writing its own block of output columns.
 */
import { dispatch, uniforms, unusedBinding, type Encoding } from './encode.ts';

/** A block of consecutive output rows of a weight: rows [firstRow, firstRow + rows) at `offset`. */
export interface WeightTile {
  buffer: GPUBuffer;
  /** byte offset of the tile's first row in `buffer` (any multiple of 4; binding alignment is handled) */
  offset: number;
  firstRow: number;
  rows: number;
}

/** A torch-layout weight [outFeatures, inFeatures] (row-major f32) as one or more row tiles. */
export interface LinearWeight {
  outFeatures: number;
  inFeatures: number;
  tiles: WeightTile[];
}

export interface TilingOptions {
  /**
   * Largest binding in bytes; defaults to the device's maxStorageBufferBindingSize (and
   * maxBufferSize). Tests pass a small value to exercise tiling.
   */
  maxBindingBytes?: number;
  label?: string;
}

function bindingLimit(device: GPUDevice, o?: TilingOptions): number {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  return Math.min(o?.maxBindingBytes ?? limit, limit);
}

/** How many weight rows fit one binding, leaving room for aligning the binding's offset down. */
function rowsPerTile(device: GPUDevice, inFeatures: number, maxBindingBytes: number): number {
  const slack = device.limits.minStorageBufferOffsetAlignment - 4;
  const rows = Math.floor((maxBindingBytes - slack) / (inFeatures * 4));
  if (rows < 1) {
    throw new RangeError(
      `one weight row of ${inFeatures} f32 (${inFeatures * 4} bytes) does not fit a ${maxBindingBytes}-byte binding; ` +
        'request a larger maxStorageBufferBindingSize from the adapter',
    );
  }
  return rows;
}

/**
 * Uploads a torch-layout weight [outFeatures, inFeatures] as row tiles, one buffer each, every
 * tile within the binding limit (so a weight past maxBufferSize works too).
 *
 * @example const w = uploadLinearWeight(device, toQ, 4096, 4096); // later: destroyLinearWeight(w)
 */
export function uploadLinearWeight(
  device: GPUDevice,
  data: Float32Array,
  outFeatures: number,
  inFeatures: number,
  options?: TilingOptions,
): LinearWeight {
  if (data.length !== outFeatures * inFeatures) {
    throw new RangeError(`${options?.label ?? 'weight'}: ${data.length} values, expected [${outFeatures}, ${inFeatures}]`);
  }
  const perTile = rowsPerTile(device, inFeatures, bindingLimit(device, options));
  const tiles: WeightTile[] = [];
  for (let firstRow = 0; firstRow < outFeatures; firstRow += perTile) {
    const rows = Math.min(perTile, outFeatures - firstRow);
    const buffer = device.createBuffer({
      label: `${options?.label ?? 'weight'} rows ${firstRow}..${firstRow + rows}`,
      size: rows * inFeatures * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Float32Array(buffer.getMappedRange()).set(data.subarray(firstRow * inFeatures, (firstRow + rows) * inFeatures));
    buffer.unmap();
    tiles.push({ buffer, offset: 0, firstRow, rows });
  }
  return { outFeatures, inFeatures, tiles };
}

/**
 * Describes a weight already in one GPU buffer (from byte `offset` on) as row tiles that each
 * fit a binding: for a buffer bigger than maxStorageBufferBindingSize.
 *
 * @example const w = tileLinearWeight(device, big, 32768, 4096); // 512 MiB → 4+ tiles at 128 MiB
 */
export function tileLinearWeight(
  device: GPUDevice,
  buffer: GPUBuffer,
  outFeatures: number,
  inFeatures: number,
  options?: TilingOptions & { offset?: number },
): LinearWeight {
  const offset = options?.offset ?? 0;
  if (offset % 4 !== 0) throw new RangeError(`weight offset ${offset} is not a multiple of 4`);
  if (buffer.size < offset + outFeatures * inFeatures * 4) {
    throw new RangeError(`weight buffer holds ${buffer.size} bytes, needs ${offset + outFeatures * inFeatures * 4}`);
  }
  const perTile = rowsPerTile(device, inFeatures, bindingLimit(device, options));
  const tiles: WeightTile[] = [];
  for (let firstRow = 0; firstRow < outFeatures; firstRow += perTile) {
    tiles.push({ buffer, offset: offset + firstRow * inFeatures * 4, firstRow, rows: Math.min(perTile, outFeatures - firstRow) });
  }
  return { outFeatures, inFeatures, tiles };
}

/** Destroys the buffers of a weight made by uploadLinearWeight. */
export function destroyLinearWeight(weight: LinearWeight): void {
  for (const buffer of new Set(weight.tiles.map((t) => t.buffer))) buffer.destroy();
}

/** The tile bound at an aligned offset, and the float offset of its first row inside the binding. */
function tileBinding(device: GPUDevice, tile: WeightTile, inFeatures: number): { binding: GPUBufferBinding; base: number } {
  const align = device.limits.minStorageBufferOffsetAlignment;
  const bindOffset = tile.offset - (tile.offset % align);
  const base = (tile.offset - bindOffset) / 4;
  return { binding: { buffer: tile.buffer, offset: bindOffset, size: (base + tile.rows * inFeatures) * 4 }, base };
}

const TILE = 64;
const MAX_WORKGROUPS = 65535;

interface Dispatch {
  x: GPUBuffer;
  y: GPUBuffer;
  bias?: GPUBuffer | undefined;
  residual?: GPUBuffer | undefined;
  rows: number;
  inner: number;
  cols: number;
  groups: number;
  xStride: number;
  yStride: number;
  xGroup: number;
  yGroup: number;
  wGroup: number;
  yCol0: number;
  tile: WeightTile;
}

function dispatchLinear(enc: Encoding, d: Dispatch): void {
  const { binding, base } = tileBinding(enc.device, d.tile, d.inner);
  const flags = (d.bias ? 1 : 0) | (d.residual ? 2 : 0);
  const shape = uniforms(enc, [
    d.rows, d.inner, d.cols, d.groups, d.xStride, d.yStride, d.xGroup, d.yGroup, d.wGroup, d.yCol0, base, flags,
  ]);
  const unused = unusedBinding(enc);
  dispatch(
    enc,
    'linear',
    [shape, d.x, binding, d.bias ?? unused, d.residual ?? unused, d.y],
    [Math.ceil(d.cols / TILE), Math.ceil(d.rows / TILE), d.groups],
  );
}

function checkCommon(x: GPUBuffer, y: GPUBuffer, rows: number, weight: LinearWeight, others: (GPUBuffer | undefined)[]): void {
  if (Math.ceil(rows / TILE) > MAX_WORKGROUPS) {
    throw new RangeError(`linear: ${rows} rows is more than one dispatch holds (${TILE * MAX_WORKGROUPS}); split the rows`);
  }
  if ([x, ...others, ...weight.tiles.map((t) => t.buffer)].includes(y)) {
    throw new RangeError('linear: the output must not alias an input');
  }
}

export interface LinearArgs {
  /** [rows, inFeatures] f32 */
  x: GPUBuffer;
  weight: LinearWeight;
  /** [outFeatures] f32, added to every row */
  bias?: GPUBuffer;
  /** [rows, outFeatures] f32, added to the result (a residual connection) */
  residual?: GPUBuffer;
  /** [rows, outFeatures] f32 output, distinct from every input */
  y: GPUBuffer;
  rows: number;
}

/**
 * Y = X · Wᵀ (+ bias) (+ residual), one dispatch per weight tile.
 *
 * @example encodeLinear(enc, { x: normed, weight: toOut, residual: hidden, y: h1, rows: tokens });
 */
export function encodeLinear(enc: Encoding, a: LinearArgs): void {
  const { inFeatures: k, outFeatures: out } = a.weight;
  checkCommon(a.x, a.y, a.rows, a.weight, [a.bias, a.residual]);
  const need = (buf: GPUBuffer, floats: number, what: string) => {
    if (buf.size < floats * 4) throw new RangeError(`linear: ${what} holds ${buf.size} bytes, needs ${floats * 4}`);
  };
  need(a.x, a.rows * k, 'x');
  need(a.y, a.rows * out, 'y');
  if (a.bias) need(a.bias, out, 'bias');
  if (a.residual) need(a.residual, a.rows * out, 'residual');
  for (const tile of a.weight.tiles) {
    dispatchLinear(enc, {
      x: a.x, y: a.y, bias: a.bias, residual: a.residual,
      rows: a.rows, inner: k, cols: tile.rows, groups: 1,
      xStride: k, yStride: out, xGroup: 0, yGroup: 0, wGroup: 0, yCol0: tile.firstRow, tile,
    });
  }
}

export interface HeadwiseLinearArgs {
  /** [rows, groups · inFeatures] f32: group g reads columns [g·in, (g+1)·in) */
  x: GPUBuffer;
  /** [groups · outPerGroup, inFeatures] in one tile: group g uses rows [g·outPerGroup, ...) */
  weight: LinearWeight;
  /** [rows, groups · outPerGroup] f32: group g writes columns [g·outPerGroup, ...) */
  y: GPUBuffer;
  rows: number;
  groups: number;
}

/**
 * A block-diagonal linear: an independent X_g · W_gᵀ per column group (attention heads), in one
 * dispatch. The weight must be a single tile (latent attention's keys and values are small).
 *
 * @example encodeHeadwiseLinear(enc, { x: q, weight: keys, y: scores, rows: tokens, groups: heads });
 */
export function encodeHeadwiseLinear(enc: Encoding, a: HeadwiseLinearArgs): void {
  const { inFeatures: k, outFeatures } = a.weight;
  const tile = a.weight.tiles[0];
  if (!tile || a.weight.tiles.length !== 1) throw new RangeError('headwise linear: the weight must be one tile');
  if (outFeatures % a.groups !== 0) throw new RangeError(`headwise linear: ${outFeatures} weight rows do not split into ${a.groups} groups`);
  checkCommon(a.x, a.y, a.rows, a.weight, []);
  const cols = outFeatures / a.groups;
  if (a.x.size < a.rows * a.groups * k * 4 || a.y.size < a.rows * outFeatures * 4) {
    throw new RangeError(`headwise linear: x or y too small for [${a.rows}, ${a.groups}×${k}] → [${a.rows}, ${outFeatures}]`);
  }
  dispatchLinear(enc, {
    x: a.x, y: a.y,
    rows: a.rows, inner: k, cols, groups: a.groups,
    xStride: a.groups * k, yStride: outFeatures, xGroup: k, yGroup: cols, wGroup: cols, yCol0: 0, tile,
  });
}
