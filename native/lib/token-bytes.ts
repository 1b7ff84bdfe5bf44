/**
 * What each token id writes, as bytes: the table the engine's decoding constraints need
 * (Model.setTokenBytes; the native core deals in ids only). Maps the two piece spellings Hugging
 * Face tokenizers use for byte-exact text: byte-level BPE (GPT-2's byte-to-unicode alphabet:
 * Qwen2, the shipped model) and SentencePiece with byte fallback ('▁' for a space, '<0xAB>' for a
 * raw byte: Llama 2, stories260K). Special tokens write nothing and are flagged.
 */

/** The table: token i writes bytes[offsets[i] .. offsets[i + 1]); special[i] = 1 for control tokens. */
export interface TokenBytes {
  bytes: Uint8Array;
  /** (vocabSize + 1) */
  offsets: Uint32Array;
  /** (vocabSize) */
  special: Uint8Array;
}

export type PieceSpelling = 'byte-level' | 'sentencepiece';

/** GPT-2's bytes_to_unicode: byte -> the printable character byte-level vocabularies spell it with. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCodePoint(256 + n++);
  return out;
}

/** How a tokenizer.json spells its pieces, from its decoder; null when neither spelling applies. */
export function pieceSpelling(tokenizerJson: Record<string, unknown>): PieceSpelling | null {
  const decoder = tokenizerJson.decoder as { type?: unknown; decoders?: unknown } | null | undefined;
  if (!decoder || typeof decoder !== 'object') return null;
  const parts = decoder.type === 'Sequence' && Array.isArray(decoder.decoders) ? (decoder.decoders as { type?: unknown; pattern?: unknown }[]) : [decoder];
  if (parts.some((d) => d?.type === 'ByteLevel')) return 'byte-level';
  const spaceMarker = (d: { type?: unknown; pattern?: unknown }): boolean =>
    d?.type === 'Replace' && JSON.stringify(d.pattern) === JSON.stringify({ String: '\u2581' });
  if (parts.some((d) => d?.type === 'ByteFallback' || d?.type === 'Metaspace' || spaceMarker(d))) return 'sentencepiece';
  return null;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * Builds the table for ids 0..vocabSize-1. vocab: piece -> id (the model's pieces); added: the
 * added tokens (their content is plain text; special ones write nothing). Ids in neither write nothing.
 */
export function buildTokenBytes(
  spelling: PieceSpelling,
  vocabSize: number,
  vocab: Map<string, number>,
  added: Map<number, { content: string; special: boolean }>,
): TokenBytes {
  const utf8 = new TextEncoder();
  const pieces = new Array<Uint8Array | undefined>(vocabSize);
  const special = new Uint8Array(vocabSize);
  let byteOf: Map<string, number> | undefined;
  if (spelling === 'byte-level') byteOf = new Map(bytesToUnicode().map((c, b) => [c, b]));
  for (const [piece, id] of vocab) {
    if (id < 0 || id >= vocabSize || added.has(id)) continue;
    if (byteOf) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = byteOf.get(ch);
        if (b !== undefined) out.push(b);
        else out.push(...utf8.encode(ch));  // not in the byte alphabet: its own UTF-8
      }
      pieces[id] = Uint8Array.from(out);
    } else {
      const m = BYTE_PIECE.exec(piece);
      pieces[id] = m ? Uint8Array.of(parseInt(m[1]!, 16)) : utf8.encode(piece.replaceAll('\u2581', ' '));
    }
  }
  for (const [id, t] of added) {
    if (id < 0 || id >= vocabSize) continue;
    if (t.special) special[id] = 1;
    else pieces[id] = utf8.encode(t.content);
  }
  const offsets = new Uint32Array(vocabSize + 1);
  for (let i = 0; i < vocabSize; i++) offsets[i + 1] = offsets[i]! + (pieces[i]?.length ?? 0);
  const bytes = new Uint8Array(offsets[vocabSize]!);
  for (let i = 0; i < vocabSize; i++) if (pieces[i]) bytes.set(pieces[i]!, offsets[i]!);
  return { bytes, offsets, special };
}
