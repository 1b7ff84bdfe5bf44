/**
 * A small GGUF v3 writer and header reader (llama.cpp's model file format, see
 * llama.cpp/ggml/include/gguf.h and gguf-py/gguf/constants.py): "GGUF" magic, u32 version 3,
 * u64 tensor count, u64 key/value count, the key/values, one info per tensor (name, dims innermost
 * first, ggml type, data offset), zero padding to the alignment, then the tensor data, each tensor
 * starting at a multiple of the alignment. Only what bench/llama-cpp/hf-to-gguf.ts needs.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF value types (gguf_type). */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** The ggml tensor types this writer emits (ggml_type). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  BF16 = 30,
}

/** Bytes per element (Q4_0 / Q8_0: a block of 32 takes 18 / 34 bytes; rows are whole blocks). */
export const GGML_TYPE_SIZE: Record<GgmlType, number> = {
  [GgmlType.F32]: 4, [GgmlType.F16]: 2, [GgmlType.Q4_0]: 18 / 32, [GgmlType.Q8_0]: 34 / 32, [GgmlType.BF16]: 2,
};

export type GgufScalarType = Exclude<GgufValueType, GgufValueType.ARRAY>;

export type GgufValue =
  | { type: GgufScalarType; value: number | bigint | boolean | string }
  | { type: GgufValueType.ARRAY; itemType: GgufScalarType; value: (number | bigint | boolean | string)[] };

export interface GgufTensor {
  name: string;
  type: GgmlType;
  /** ggml order: dims[0] is the innermost (contiguous) one, i.e. an HF [rows, cols] is [cols, rows]. */
  dims: number[];
  /** Writes exactly byteSize(tensor) bytes through write(chunk), in order. */
  write: (write: (chunk: Uint8Array) => void) => void;
}

/** Convenience constructors for key/values. */
export const gguf = {
  str: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
  strs: (value: string[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  i32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value }),
  f32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value }),
};

export function tensorByteSize(t: Pick<GgufTensor, 'type' | 'dims'>): number {
  return t.dims.reduce((a, b) => a * b, 1) * GGML_TYPE_SIZE[t.type];
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Accumulates little-endian bytes for the header part of the file. */
class ByteSink {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const body = Buffer.from(s, 'utf8');
    this.u64(body.length);
    this.push(body);
  }
  scalar(type: GgufScalarType, v: number | bigint | boolean | string): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GgufValueType.UINT8: b.writeUInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GgufValueType.INT8: b.writeInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GgufValueType.UINT16: b.writeUInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GgufValueType.INT16: b.writeInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GgufValueType.UINT32: b.writeUInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.INT32: b.writeInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.FLOAT32: b.writeFloatLE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.BOOL: b.writeUInt8(v ? 1 : 0); return this.push(b.subarray(0, 1));
      case GgufValueType.UINT64: b.writeBigUInt64LE(BigInt(v)); return this.push(b);
      case GgufValueType.INT64: b.writeBigInt64LE(BigInt(v)); return this.push(b);
      case GgufValueType.FLOAT64: b.writeDoubleLE(Number(v)); return this.push(b);
      case GgufValueType.STRING: return this.str(String(v));
    }
  }
  concat(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/**
 * Writes a GGUF v3 file: kv in insertion order (general.alignment is honoured if present), then the
 * tensors in the given order. Returns the offset of the data section in the file.
 */
export function writeGguf(path: string, kv: Map<string, GgufValue>, tensors: GgufTensor[]): number {
  const alignKv = kv.get('general.alignment');
  const alignment = alignKv && alignKv.type !== GgufValueType.ARRAY ? Number(alignKv.value) : GGUF_DEFAULT_ALIGNMENT;
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`gguf: duplicate tensor ${t.name}`);
    names.add(t.name);
  }
  const head = new ByteSink();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(tensors.length);
  head.u64(kv.size);
  for (const [key, v] of kv) {
    head.str(key);
    head.u32(v.type);
    if (v.type === GgufValueType.ARRAY) {
      head.u32(v.itemType);
      head.u64(v.value.length);
      for (const item of v.value) head.scalar(v.itemType, item);
    } else {
      head.scalar(v.type, v.value);
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + tensorByteSize(t), alignment);
  }
  const dataStart = alignUp(head.length, alignment);
  const fd = openSync(path, 'w');
  try {
    let at = 0;
    const put = (b: Uint8Array): void => {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done, at + done);
      at += b.length;
    };
    put(head.concat());
    put(Buffer.alloc(dataStart - head.length));
    tensors.forEach((t, i) => {
      const begin = at;
      t.write(put);
      const written = at - begin;
      if (written !== tensorByteSize(t)) throw new Error(`gguf: ${t.name}: wrote ${written} bytes, expected ${tensorByteSize(t)}`);
      const next = i + 1 < tensors.length ? dataStart + offsets[i + 1] : alignUp(at, alignment);
      put(Buffer.alloc(next - at));
    });
  } finally {
    closeSync(fd);
  }
  return dataStart;
}

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  /** Relative to dataStart. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  kv: Map<string, number | bigint | boolean | string | (number | bigint | boolean | string)[]>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute file offset of the data section. */
  dataStart: number;
}

/** Parses the header of a GGUF file (reads only as much as needed, up to maxHeaderBytes). */
export function readGgufHeader(path: string, maxHeaderBytes = 64 << 20): GgufHeader {
  const fd = openSync(path, 'r');
  let buf: Buffer;
  try {
    buf = Buffer.alloc(maxHeaderBytes);
    buf = buf.subarray(0, readSync(fd, buf, 0, maxHeaderBytes, 0));
  } finally {
    closeSync(fd);
  }
  let p = 0;
  const need = (n: number): void => {
    if (p + n > buf.length) throw new Error(`gguf: ${path}: header truncated at byte ${p}`);
  };
  const u32 = (): number => (need(4), (p += 4), buf.readUInt32LE(p - 4));
  const u64 = (): number => (need(8), (p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const str = (): string => {
    const n = u64();
    need(n);
    p += n;
    return buf.toString('utf8', p - n, p);
  };
  const scalar = (type: number): number | bigint | boolean | string => {
    switch (type) {
      case GgufValueType.UINT8: need(1); return buf.readUInt8(p++);
      case GgufValueType.INT8: need(1); return buf.readInt8(p++);
      case GgufValueType.UINT16: need(2); p += 2; return buf.readUInt16LE(p - 2);
      case GgufValueType.INT16: need(2); p += 2; return buf.readInt16LE(p - 2);
      case GgufValueType.UINT32: return u32();
      case GgufValueType.INT32: need(4); p += 4; return buf.readInt32LE(p - 4);
      case GgufValueType.FLOAT32: need(4); p += 4; return buf.readFloatLE(p - 4);
      case GgufValueType.BOOL: need(1); return buf.readUInt8(p++) !== 0;
      case GgufValueType.UINT64: need(8); p += 8; return buf.readBigUInt64LE(p - 8);
      case GgufValueType.INT64: need(8); p += 8; return buf.readBigInt64LE(p - 8);
      case GgufValueType.FLOAT64: need(8); p += 8; return buf.readDoubleLE(p - 8);
      case GgufValueType.STRING: return str();
      default: throw new Error(`gguf: ${path}: unknown value type ${type} at byte ${p}`);
    }
  };
  if (u32() !== GGUF_MAGIC) throw new Error(`gguf: ${path}: not a GGUF file (bad magic)`);
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kv: GgufHeader['kv'] = new Map();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    if (type === GgufValueType.ARRAY) {
      const itemType = u32();
      const n = u64();
      const items: (number | bigint | boolean | string)[] = [];
      for (let j = 0; j < n; j++) items.push(scalar(itemType));
      kv.set(key, items);
    } else {
      kv.set(key, scalar(type));
    }
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nDims = u32();
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(u64());
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const alignment = kv.has('general.alignment') ? Number(kv.get('general.alignment')) : GGUF_DEFAULT_ALIGNMENT;
  return { version, kv, tensors, alignment, dataStart: alignUp(p, alignment) };
}
