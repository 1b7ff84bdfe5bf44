/**
 * A small safetensors writer and reader (https://github.com/huggingface/safetensors format):
 * u64 little-endian header length, a JSON header ("__metadata__" first, then one entry per tensor
 * with dtype, shape and data_offsets), space-padded so the data starts 8-byte aligned, then the
 * raw little-endian tensors back to back. Used by make-random-model.ts, the float64 reference
 * forward and the bad-model tests. Dtypes: F32, BF16 (round to nearest even), F16.
 *
 *   writeSafetensors(path, [{ name: 'w', dtype: 'BF16', shape: [2, 3], data: Float32Array.of(...) }]);
 *   const file = readSafetensors(path);  // file.tensors.get('w')!.data: Float32Array (widened)
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16';

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The values, row-major, as float32 (converted to dtype when written). */
  data?: Float32Array;
  /**
   * Instead of data, for tensors too big to hold twice: called with consecutive chunks; fill
   * chunk with the elements starting at elementOffset. Calls are in order, offset 0 first.
   */
  fill?: (chunk: Float32Array, elementOffset: number) => void;
}

export interface SafetensorsHeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface ReadTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The stored values widened to float32, row-major. */
  data: Float32Array;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2 };
const CHUNK_ELEMENTS = 1 << 20;

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** float32 -> bfloat16 bits, round to nearest even (NaN kept quiet). */
export function f32ToBf16Bits(x: number, scratch = new Float32Array(1)): number {
  scratch[0] = x;
  const u = new Uint32Array(scratch.buffer)[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  const f = new Float32Array(new Uint32Array([h << 16]).buffer);
  return f[0];
}

/** float32 -> IEEE half bits, round to nearest even, with subnormals and overflow to infinity. */
export function f32ToF16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  if ((half & 0x7fff) >= 0x7c00) return sign | 0x7c00;
  return sign | half;
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The values a dtype can hold: data rounded through dtype and back (F32 returns a copy). */
export function roundTo(dtype: SafetensorsDtype, data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  const scratch = new Float32Array(1);
  for (let i = 0; i < data.length; i++) {
    out[i] = dtype === 'BF16' ? bf16BitsToF32(f32ToBf16Bits(data[i], scratch)) : dtype === 'F16' ? f16BitsToF32(f32ToF16Bits(data[i])) : data[i];
  }
  return out;
}

function encodeChunk(dtype: SafetensorsDtype, values: Float32Array): Buffer {
  if (dtype === 'F32') return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) {
      const u = bits[i];
      out[i] = (u & 0x7fffffff) > 0x7f800000 ? ((u >>> 16) | 0x40) & 0xffff : ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
    }
  } else {
    for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  }
  return Buffer.from(out.buffer, 0, out.byteLength); // little-endian hosts only (x86-64, aarch64)
}

/** The header bytes (length prefix included) for these tensors, in the given order. */
export function encodeHeader(tensors: Pick<TensorSpec, 'name' | 'dtype' | 'shape'>[], metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = elementCount(t.shape) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([prefix, body]);
}

/** Writes one .safetensors file; returns the data size in bytes (for a shard index's total_size). */
export function writeSafetensors(path: string, tensors: TensorSpec[], metadata: Record<string, string> = { format: 'pt' }): number {
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    writeSync(fd, encodeHeader(tensors, metadata));
    for (const t of tensors) {
      const n = elementCount(t.shape);
      if (t.data) {
        if (t.data.length !== n) throw new Error(`${t.name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
        for (let i = 0; i < n; i += CHUNK_ELEMENTS) total += writeSync(fd, encodeChunk(t.dtype, t.data.subarray(i, Math.min(n, i + CHUNK_ELEMENTS))));
      } else if (t.fill) {
        const chunk = new Float32Array(Math.min(n, CHUNK_ELEMENTS));
        for (let i = 0; i < n; i += CHUNK_ELEMENTS) {
          const part = chunk.subarray(0, Math.min(CHUNK_ELEMENTS, n - i));
          t.fill(part, i);
          total += writeSync(fd, encodeChunk(t.dtype, part));
        }
      } else {
        throw new Error(`${t.name}: neither data nor fill given`);
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

/** The parsed header of a file: its length field, JSON entries and where the data starts. */
export function readHeader(path: string): { headerLength: number; metadata: Record<string, string>; entries: Map<string, SafetensorsHeaderEntry>; dataStart: number } {
  // Only the length field and the JSON are read: model files pass 2 GiB (Node's readFileSync limit).
  const fd = openSync(path, 'r');
  let header: Buffer;
  let headerLength: number;
  try {
    const size = fstatSync(fd).size;
    const field = Buffer.alloc(8);
    if (size < 8 || readSync(fd, field, 0, 8, 0) !== 8) throw new Error(`${path}: not a safetensors file (${size} bytes, no header length)`);
    headerLength = Number(field.readBigUInt64LE(0));
    if (headerLength > size - 8) throw new Error(`${path}: header length ${headerLength} exceeds the file (${size} bytes)`);
    header = Buffer.alloc(headerLength);
    for (let at = 0; at < headerLength; ) {
      const n = readSync(fd, header, at, headerLength - at, 8 + at);
      if (n <= 0) throw new Error(`${path}: unexpected end of file in the header`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  const json = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
  const entries = new Map<string, SafetensorsHeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === '__metadata__') metadata = v as Record<string, string>;
    else entries.set(k, v as SafetensorsHeaderEntry);
  }
  return { headerLength, metadata, entries, dataStart: 8 + headerLength };
}

/** Reads every tensor of one file, widened to float32. Throws on a dtype other than F32/BF16/F16. */
export function readSafetensors(path: string): { metadata: Record<string, string>; tensors: Map<string, ReadTensor> } {
  const buf = readFileSync(path);
  const { metadata, entries, dataStart } = readHeader(path);
  const tensors = new Map<string, ReadTensor>();
  for (const [name, e] of entries) {
    const dtype = e.dtype as SafetensorsDtype;
    if (!(dtype in BYTES)) throw new Error(`${path}: ${name}: unsupported dtype ${e.dtype}`);
    const n = elementCount(e.shape);
    const [begin, end] = e.data_offsets;
    if (end - begin !== n * BYTES[dtype] || dataStart + end > buf.length) throw new Error(`${path}: ${name}: bad data_offsets`);
    const data = new Float32Array(n);
    const at = dataStart + begin;
    for (let i = 0; i < n; i++) {
      data[i] = dtype === 'F32' ? buf.readFloatLE(at + 4 * i) : dtype === 'BF16' ? bf16BitsToF32(buf.readUInt16LE(at + 2 * i)) : f16BitsToF32(buf.readUInt16LE(at + 2 * i));
    }
    tensors.set(name, { dtype, shape: e.shape, data });
  }
  return { metadata, tensors };
}

/**
 * Reads all tensors of a model folder: model.safetensors, or the shards that
 * model.safetensors.index.json's weight_map names.
 */
export function readModelTensors(dir: string): Map<string, ReadTensor> {
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return readSafetensors(join(dir, 'model.safetensors')).tensors;
  const weightMap = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  const out = new Map<string, ReadTensor>();
  for (const file of new Set(Object.values(weightMap))) {
    for (const [name, t] of readSafetensors(join(dir, file)).tensors) out.set(name, t);
  }
  return out;
}
