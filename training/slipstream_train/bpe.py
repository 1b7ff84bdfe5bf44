# Tokenizer step: a byte-level BPE (GPT-2 style) trained on a sample of the training split, with
# the Qwen2.5-Coder FIM special tokens, saved as a Hugging Face tokenizer.json (ByteLevel
# pre-tokenizer with the GPT-2 regex, BPE model, ByteLevel decoder, special added tokens).
# The Encoder class here is the reference encoder; tests check that @huggingface/tokenizers
# (npm) encodes and decodes byte-for-byte the same (training/tests/test_tokenizer_node.py).
import collections
import json
import re
import sys
import unicodedata


def _class_of(pred):
    """A regex character-class body with every code point for which pred(category) holds."""
    out, start, prev = [], None, None
    for cp in range(sys.maxunicode + 1):
        if pred(unicodedata.category(chr(cp))):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            out.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = None
    if start is not None:
        out.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
    return "".join(out)


# The GPT-2 pattern that @huggingface/tokenizers uses for ByteLevel(use_regex=true), in JavaScript
# semantics: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu.
# Python's re has no \p{..} and its \s differs from JavaScript's, so the classes are spelled out:
# letters and numbers from unicodedata, whitespace exactly as ECMAScript defines \s.
_L = _class_of(lambda c: c[0] == "L")
_N = _class_of(lambda c: c[0] == "N")
_WS = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
GPT2_PATTERN = re.compile(
    f"'s|'t|'re|'ve|'m|'ll|'d| ?[{_L}]+| ?[{_N}]+| ?[^{_WS}{_L}{_N}]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+")
SPECIAL_TOKENS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                  "<|fim_pad|>", "<|file_sep|>"]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}


def pretokenize(text):
    """Splits text into GPT-2 chunks, each mapped to its byte-level unicode string."""
    return ["".join(BYTE_ENC[b] for b in m.encode("utf-8")) for m in GPT2_PATTERN.findall(text)]


def train_bpe(texts, vocab_size, log=None):
    """Learns merges until len(256 bytes + merges + specials) == vocab_size. Returns merges list."""
    word_counts = collections.Counter()
    for t in texts:
        word_counts.update(pretokenize(t))
    words = [list(w) for w in word_counts]
    counts = [word_counts[w] for w in word_counts]
    pair_counts = collections.defaultdict(int)
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += counts[i]
            where[(a, b)].add(i)
    n_merges = vocab_size - 256 - len(SPECIAL_TOKENS)
    merges = []
    for step in range(n_merges):
        if not pair_counts:
            break
        # most frequent pair; ties broken by the pair itself so training is deterministic
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_counts[best] < 2:
            break
        merges.append(best)
        a, b = best
        new = a + b
        for i in list(where[best]):
            w = words[i]
            c = counts[i]
            # remove old pairs of this word
            for p in zip(w, w[1:]):
                pair_counts[p] -= c
                if pair_counts[p] <= 0:
                    del pair_counts[p]
                where[p].discard(i)
            j = 0
            out = []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_counts[p] += c
                where[p].add(i)
        where.pop(best, None)
        if log and step % 500 == 0:
            log(f"bpe merge {step}/{n_merges}: {new!r}")
    return merges


class Encoder:
    """Reference BPE encoder/decoder over a vocab (token string -> id) and ranked merges."""

    def __init__(self, vocab, merges, special_tokens=SPECIAL_TOKENS):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.special = {t: vocab[t] for t in special_tokens}
        self.special_re = re.compile("(" + "|".join(re.escape(t) for t in special_tokens) + ")")
        self.cache = {}

    @classmethod
    def load(cls, tokenizer_json_path):
        tj = json.load(open(tokenizer_json_path, encoding="utf-8"))
        merges = [m.split(" ") if isinstance(m, str) else m for m in tj["model"]["merges"]]
        vocab = dict(tj["model"]["vocab"])
        for t in tj["added_tokens"]:
            vocab[t["content"]] = t["id"]
        return cls(vocab, merges, [t["content"] for t in tj["added_tokens"]])

    def bpe(self, chunk):
        if chunk in self.cache:
            return self.cache[chunk]
        parts = list(chunk)
        while len(parts) > 1:
            best_rank, best_i = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best_i = r, i
            if best_rank is None:
                break
            a, b = parts[best_i], parts[best_i + 1]
            out, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 500_000:
            self.cache[chunk] = ids
        return ids

    def encode(self, text, allow_special=True):
        ids = []
        pieces = self.special_re.split(text) if allow_special else [text]
        for piece in pieces:
            if not piece:
                continue
            if allow_special and piece in self.special:
                ids.append(self.special[piece])
                continue
            for chunk in pretokenize(piece):
                ids.extend(self.bpe(chunk))
        return ids

    def decode(self, ids):
        out, buf = [], []
        for i in ids:
            tok = self.inv[int(i)]
            if tok in self.special:
                if buf:
                    out.append(bytes(BYTE_DEC[c] for c in "".join(buf)).decode("utf-8", errors="replace"))
                    buf = []
                out.append(tok)
            else:
                buf.append(tok)
        if buf:
            out.append(bytes(BYTE_DEC[c] for c in "".join(buf)).decode("utf-8", errors="replace"))
        return "".join(out)

    def decode_bytes(self, ids):
        """Raw bytes of non-special tokens (for streaming partial UTF-8)."""
        return bytes(BYTE_DEC[c] for i in ids for c in self.inv[int(i)] if self.inv[int(i)] not in self.special)


def build_vocab(merges):
    vocab = {}
    for b in range(256):
        vocab[BYTE_ENC[b]] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    for t in SPECIAL_TOKENS:
        vocab[t] = len(vocab)
    return vocab


def tokenizer_json(merges):
    vocab = build_vocab(merges)
    base_vocab = {t: i for t, i in vocab.items() if t not in SPECIAL_TOKENS}
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIAL_TOKENS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": base_vocab,
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config(model_max_length):
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "bos_token": None,
        "eos_token": "<|endoftext|>",
        "pad_token": "<|fim_pad|>",
        "unk_token": None,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "additional_special_tokens": SPECIAL_TOKENS[1:],
        "errors": "replace",
    }


def sample_texts(docs, max_bytes, seed=0):
    """A deterministic sample of whole documents up to max_bytes, spread over packages."""
    import random
    rng = random.Random(seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    out, total = [], 0
    for i in order:
        t = docs[i]["text"]
        if total + len(t) > max_bytes:
            continue
        out.append(t)
        total += len(t)
    return out
