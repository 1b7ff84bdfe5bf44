/**
 * Tokenizer for Hugging Face model folders, on @huggingface/tokenizers: encode/decode with the
 * folder's tokenizer.json + tokenizer_config.json semantics (BOS/EOS per add_bos_token /
 * add_eos_token, special tokens), the model's EOS ids, a streaming detokenizer that never
 * emits half a UTF-8 character while keeping concat(stream) === decode(all ids), and the bytes each
 * token writes (token-bytes.ts) for the engine's decoding constraints. The folder's files are read
 * through model-files.ts (regular files only, each with a size cap, off the event loop; errors
 * never quote them).
 */
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { EngineError } from './errors.js';
import { buildTokenBytes, pieceSpelling, type PieceSpelling, type TokenBytes } from './token-bytes.js';
import { messageWithoutFileText, readModelJson, valueForMessage, type JsonObject } from './model-files.js';

/** Options of `Tokenizer.decode` and `Tokenizer.createStreamDecoder`. */
export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, <|fim_prefix|>, ...) from the text. Default false (HF semantics). */
  skipSpecialTokens?: boolean;
}

/** Incremental detokenizer for one generation: feed accepted ids, get the new text. */
export interface StreamDecoder {
  /** Adds ids and returns the text that became final (possibly ''). */
  push(ids: ArrayLike<number>): string;
  /** Returns everything not yet emitted (including an unfinished UTF-8 sequence as U+FFFD, as decode() would). */
  flush(): string;
}

const REPLACEMENT_CHAR = '\uFFFD';
/** Re-anchor the stream decoder's window once it holds this many tokens (bounds decode cost per push). */
const STREAM_WINDOW_MAX = 24;
/** Tokens kept in the window after re-anchoring. */
const STREAM_WINDOW_KEEP = 6;
/**
 * clean_up_tokenization_spaces deletes the space before these continuations (see the library's
 * clean_up_tokenization). A tail ' ' + one of these proper prefixes may still change, so it is held.
 */
const CLEANUP_PENDING_TAILS = new Set(['', "'", 'n', "n'", "'v", "'r"]);

export interface EncodeOptions {
  /** Add BOS/EOS as the tokenizer's config says (default true). */
  addSpecialTokens?: boolean;
  /** Treat special-token strings in the text as plain text instead of control tokens (default false). */
  literalSpecials?: boolean;
}

export type FimOrder = 'psm' | 'spm';

function fimOrderOf(v: unknown, path: string): FimOrder {
  if (v === undefined || v === null) return 'psm';
  if (v === 'psm' || v === 'spm') return v;
  throw new EngineError(`${path}: fim_order must be "psm" or "spm", got ${valueForMessage(v)}`, 'ENGINE_BAD_MODEL');
}

/** A special-token field of tokenizer_config.json: a string, an AddedToken object {content}, or null. */
function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as JsonObject).content === 'string') {
    return (value as JsonObject).content as string;
  }
  return null;
}

/** eos_token_id / bos_token_id of config.json or generation_config.json: a number, a list, or absent. */
function idList(value: unknown): number[] {
  if (Number.isInteger(value)) return [value as number];
  if (Array.isArray(value)) return value.filter((v): v is number => Number.isInteger(v));
  return [];
}

export class Tokenizer {
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  /** Number of ids the tokenizer knows (largest id + 1, added tokens included). */
  readonly vocabSize: number;
  /**
   * The fill-in-the-middle order the model was trained in: tokenizer_config.json's `fim_order`
   * ("psm" or "spm", the key Slipstream's training recipe writes; absent means "psm", the order of
   * Qwen2.5-Coder, StarCoder and DeepSeek-Coder).
   */
  readonly fimOrder: FimOrder;

  /** How tokenizer.json spells its pieces as bytes (null: neither byte-level nor SentencePiece). */
  readonly pieceSpelling: PieceSpelling | null;

  private readonly hf: HfTokenizer;
  private readonly addBos: boolean | undefined;
  private readonly addEos: boolean | undefined;
  private readonly eosForEncode: number | null;
  private readonly cleanUpSpaces: boolean;
  private readonly specialIds: Set<number>;
  /** Contents of the special added tokens, longest first, for literal encoding (empty: not supported). */
  private readonly specialStrings: string[];

  private constructor(
    hf: HfTokenizer, tokenizerConfig: JsonObject, generationConfig: JsonObject, modelConfig: JsonObject, fimOrder: FimOrder,
    spelling: PieceSpelling | null,
  ) {
    this.hf = hf;
    this.pieceSpelling = spelling;
    this.addBos = typeof tokenizerConfig.add_bos_token === 'boolean' ? tokenizerConfig.add_bos_token : undefined;
    this.addEos = typeof tokenizerConfig.add_eos_token === 'boolean' ? tokenizerConfig.add_eos_token : undefined;
    this.cleanUpSpaces = tokenizerConfig.clean_up_tokenization_spaces === true;
    this.fimOrder = fimOrder;

    // BOS: tokenizer_config's bos_token when the key is present (null means "none", as in Qwen2),
    // else the model's bos_token_id.
    if ('bos_token' in tokenizerConfig) {
      const bos = tokenContent(tokenizerConfig.bos_token);
      this.bosTokenId = bos === null ? null : (hf.token_to_id(bos) ?? null);
    } else {
      this.bosTokenId = idList(generationConfig.bos_token_id)[0] ?? idList(modelConfig.bos_token_id)[0] ?? null;
    }
    const eosText = tokenContent(tokenizerConfig.eos_token);
    this.eosForEncode = eosText === null ? null : (hf.token_to_id(eosText) ?? null);
    // EOS: every id generation stops at, generation_config first (it may be a list, as in Llama 3).
    const eos = [...idList(generationConfig.eos_token_id), ...idList(modelConfig.eos_token_id)];
    if (this.eosForEncode !== null) eos.push(this.eosForEncode);
    this.eosTokenIds = [...new Set(eos)];

    const specials = [...hf.get_added_tokens_decoder()].filter(([, t]) => t.special);
    this.specialIds = new Set(specials.map(([id]) => id));
    // Splitting text into separately encoded pieces is exact only when encoding does not prepend a
    // space marker to each piece (byte-level BPE without add_prefix_space; not SentencePiece's "▁").
    const probe = hf.encode('<', { add_special_tokens: false }).ids;
    const splitSafe = probe.length === 1 && hf.id_to_token(probe[0]!) === '<';
    this.specialStrings = splitSafe
      ? [...new Set(specials.map(([, t]) => t.content).filter((c) => c.length > 1))].sort((a, b) => b.length - a.length)
      : [];
    let maxId = -1;
    for (const id of hf.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
  }

  /**
   * Loads tokenizer.json (required) and tokenizer_config.json, generation_config.json and
   * config.json (optional) from a Hugging Face model folder.
   */
  static async load(modelDir: string): Promise<Tokenizer> {
    // read off the event loop, regular files only, each with its size cap (model-files.ts)
    const [tokenizerJson, tokenizerConfig, generationConfig, modelConfig] = await Promise.all([
      readModelJson(join(modelDir, 'tokenizer.json'), 'tokenizer.json', true).then((j) => j!),
      readModelJson(join(modelDir, 'tokenizer_config.json'), 'tokenizer_config.json', false).then((j) => j ?? {}),
      readModelJson(join(modelDir, 'generation_config.json'), 'generation_config.json', false).then((j) => j ?? {}),
      readModelJson(join(modelDir, 'config.json'), 'config.json', false).then((j) => j ?? {}),
    ]);
    // The library defaults clean_up_tokenization_spaces to true when absent, which rewrites code
    // (" ." -> "."); transformers 5 defaults it to false. Pass the folder's value, default false.
    const libConfig = { ...tokenizerConfig, clean_up_tokenization_spaces: tokenizerConfig.clean_up_tokenization_spaces === true };
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(tokenizerJson, libConfig);
    } catch (err) {
      // the library's messages quote the file ("Unknown PreTokenizer type: X"): only their head is kept
      throw new EngineError(`${join(modelDir, 'tokenizer.json')}: cannot build tokenizer: ${messageWithoutFileText(err)}`, 'ENGINE_BAD_MODEL');
    }
    const fimOrder = fimOrderOf(tokenizerConfig.fim_order, join(modelDir, 'tokenizer_config.json'));
    const tokenizer = new Tokenizer(hf, tokenizerConfig, generationConfig, modelConfig, fimOrder, pieceSpelling(tokenizerJson));
    if (tokenizer.vocabSize === 0) {
      throw new EngineError(`${join(modelDir, 'tokenizer.json')}: the vocabulary is empty (no model.vocab entries and no added_tokens)`, 'ENGINE_BAD_MODEL');
    }
    return tokenizer;
  }

  /**
   * Text to ids. With addSpecialTokens (default true): when tokenizer_config.json sets
   * add_bos_token / add_eos_token, those flags decide (as transformers' Llama tokenizers do);
   * otherwise tokenizer.json's post-processor does. Special-token strings in the text become
   * control tokens (HF semantics).
   */
  encode(text: string, opts: EncodeOptions = {}): Int32Array {
    if (typeof text !== 'string') throw new EngineError('encode: text must be a string', 'ENGINE_INVALID_ARGUMENT');
    const addSpecial = opts.addSpecialTokens ?? true;
    const flagsDecide = this.addBos !== undefined || this.addEos !== undefined;
    const ids = opts.literalSpecials ? this.encodeLiteral(text) : this.hf.encode(text, { add_special_tokens: addSpecial && !flagsDecide }).ids;
    if (addSpecial && flagsDecide) {
      if (this.addBos && this.bosTokenId !== null) ids.unshift(this.bosTokenId);
      if (this.addEos && this.eosForEncode !== null) ids.push(this.eosForEncode);
    }
    return Int32Array.from(ids);
  }

  /**
   * Encodes text in which special-token strings are plain text (a document that mentions
   * "<|endoftext|>"): each such string is cut after its first character, so neither piece
   * matches a special token and both are encoded as ordinary bytes. For tokenizers that prepend
   * a space marker to every encode call (SentencePiece), cutting would add spaces, so there the
   * text is encoded with HF semantics.
   */
  private encodeLiteral(text: string): number[] {
    const pieces: string[] = [];
    let start = 0;
    for (;;) {
      let hit = -1;
      for (const sp of this.specialStrings) {
        const index = text.indexOf(sp, start);
        if (index >= 0 && (hit < 0 || index < hit)) hit = index;
      }
      if (hit < 0) break;
      pieces.push(text.slice(start, hit + 1));
      start = hit + 1;
    }
    pieces.push(text.slice(start));
    const ids: number[] = [];
    for (const piece of pieces) if (piece.length > 0) ids.push(...this.hf.encode(piece, { add_special_tokens: false }).ids);
    return ids;
  }

  /** Ids to text. Ids the tokenizer does not know (padding rows of the embedding) decode to ''. */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const known: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (Number.isInteger(id) && id >= 0 && this.hf.id_to_token(id) !== undefined) known.push(id);
    }
    if (known.length === 0) return ''; // the library throws on an empty list
    return this.hf.decode(known, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /** The id of a token string such as '<|fim_prefix|>' or '<s>', or undefined. */
  tokenId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** Whether an id is a special (control) token. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * What each id below vocabSize (default: the tokenizer's; pass the model's vocabSize for
   * Model.setTokenBytes) writes, as bytes: special tokens and unknown ids write nothing.
   * Throws EngineError ENGINE_UNSUPPORTED for tokenizers that are neither byte-level BPE nor
   * SentencePiece.
   */
  tokenBytes(vocabSize: number = this.vocabSize): TokenBytes {
    if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new RangeError('vocabSize must be a positive integer');
    if (this.pieceSpelling === null)
      throw new EngineError('token bytes: the tokenizer is neither byte-level BPE nor SentencePiece (its decoder is not supported)', 'ENGINE_UNSUPPORTED');
    const added = new Map<number, { content: string; special: boolean }>();
    for (const [id, t] of this.hf.get_added_tokens_decoder()) added.set(id, { content: t.content, special: t.special });
    return buildTokenBytes(this.pieceSpelling, vocabSize, this.hf.get_vocab(true), added);
  }

  /**
   * A streaming detokenizer. It decodes a window of recent ids and emits only the text beyond
   * what it already emitted, holding back a trailing U+FFFD (an unfinished UTF-8 sequence from
   * byte-fallback or byte-level pieces) and, with clean_up_tokenization_spaces, a trailing space
   * that the clean-up may still delete. The window starts at token 0 until it grows past
   * STREAM_WINDOW_MAX, so SentencePiece's "strip the first leading space" applies exactly as in
   * decode(); it is then re-anchored only at a point where the window's text is complete.
   */
  createStreamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    const ids: number[] = [];
    let anchor = 0; // window = ids[anchor:]
    let pos = 0; // chars of decode(window) already emitted
    const decodeWindow = (from: number): string => this.decode(ids.slice(from), opts);
    const safeLength = (text: string): number => {
      let end = text.length;
      while (end > 0 && text[end - 1] === REPLACEMENT_CHAR) end--;
      if (this.cleanUpSpaces) {
        const space = text.lastIndexOf(' ', end - 1);
        if (space >= 0 && CLEANUP_PENDING_TAILS.has(text.slice(space + 1, end))) end = space;
      }
      return end;
    };
    const reanchor = (windowText: string): void => {
      if (ids.length - anchor <= STREAM_WINDOW_MAX || pos !== windowText.length) return;
      for (let a = ids.length - STREAM_WINDOW_KEEP; a > anchor; a--) {
        const text = decodeWindow(a);
        // The new window must decode to complete text that ends the old one (the first char may
        // differ: a stripped leading space), so later ids extend both windows identically.
        if (text.length >= 2 && text[0] !== REPLACEMENT_CHAR && safeLength(text) === text.length && windowText.endsWith(text.slice(1))) {
          anchor = a;
          pos = text.length;
          return;
        }
      }
    };
    return {
      push: (newIds: ArrayLike<number>): string => {
        for (let i = 0; i < newIds.length; i++) ids.push(newIds[i]);
        const text = decodeWindow(anchor);
        const end = safeLength(text);
        let out = '';
        if (end > pos) {
          out = text.slice(pos, end);
          pos = end;
        }
        reanchor(text);
        return out;
      },
      flush: (): string => {
        const text = decodeWindow(anchor);
        const out = text.length > pos ? text.slice(pos) : '';
        pos = text.length;
        return out;
      },
    };
  }
}
