# Training data for the base model: documents are cut at line boundaries into segments that fit
# the context, and each training sequence packs samples until it holds seq_len + 1 tokens. A sample
# is, with probability fim_rate, a fill-in-the-middle sample in the configured order (fim_prompt;
# docs/training.md says why the shipped model uses SPM), followed by the middle and <|endoftext|>;
# otherwise plain left-to-right text followed by <|endoftext|>. The cursor (start of the middle) is
# uniform over characters, so it may sit mid-word as in an editor; the middle's end is uniform over
# the rest of the segment, or, for a fim_line_rate share of FIM samples, the end of the cursor's
# line or of one or two lines after it (what an editor asks for). Batches are a pure function of
# (seed, step), so a resumed run sees exactly the batches the interrupted one would have.
import random

import numpy as np
import torch


def segments_of(docs, max_chars):
    """Cuts each document's text at line boundaries into pieces of at most ~max_chars characters."""
    out = []
    for d in docs:
        lines = d["text"].splitlines(keepends=True)
        cur = ""
        for line in lines:
            if cur and len(cur) + len(line) > max_chars:
                out.append(cur)
                cur = ""
            cur += line[: max_chars * 2]
        if cur.strip():
            out.append(cur)
    return out


FIM_ORDERS = ("psm", "spm")


def fim_prompt(special, prefix_ids, suffix_ids, order):
    """The prompt the model continues with the middle:
    psm: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|>  (Qwen2.5-Coder's order)
    spm: <|fim_prefix|> <|fim_suffix|> suffix <|fim_middle|> prefix  (Code Llama's SPM order: the
         middle continues the prefix directly, and typing at the cursor only appends to the prompt)."""
    pre, suf, mid = special["<|fim_prefix|>"], special["<|fim_suffix|>"], special["<|fim_middle|>"]
    if order == "psm":
        return [pre] + list(prefix_ids) + [suf] + list(suffix_ids) + [mid]
    if order == "spm":
        return [pre, suf] + list(suffix_ids) + [mid] + list(prefix_ids)
    raise ValueError(f"fim order must be one of {FIM_ORDERS}, got {order!r}")


def line_end_after(text, cur, extra_lines):
    """Index of the end of the line holding text[cur] (exclusive of its newline), or of the
    extra_lines-th line after it; len(text) when the text ends first."""
    end = cur
    for k in range(extra_lines + 1):
        nl = text.find("\n", end + (0 if k == 0 else 1))
        if nl < 0:
            return len(text)
        end = nl
    return end


class FimSampler:
    def __init__(self, encoder, segments, seq_len, fim_rate=0.5, seed=0, fim_order="psm", fim_line_rate=0.0):
        if fim_order not in FIM_ORDERS:
            raise ValueError(f"fim_order must be one of {FIM_ORDERS}, got {fim_order!r}")
        self.enc = encoder
        self.segments = segments
        self.seq_len = seq_len
        self.fim_rate = fim_rate
        self.fim_order = fim_order
        self.fim_line_rate = fim_line_rate
        self.seed = seed
        sp = encoder.special
        self.eot = sp["<|endoftext|>"]
        # sample segments in proportion to their length
        lens = np.array([len(s) for s in segments], dtype=np.float64)
        self.cum = np.cumsum(lens / lens.sum())

    def sample_tokens(self, rng):
        seg = self.segments[min(int(np.searchsorted(self.cum, rng.random())), len(self.segments) - 1)]
        if rng.random() < self.fim_rate and len(seg) > 2:
            if self.fim_line_rate and rng.random() < self.fim_line_rate:
                a = rng.randrange(0, len(seg))
                b = line_end_after(seg, a, rng.choice([0, 0, 1, 2]))
            else:
                a, b = sorted(rng.randrange(0, len(seg) + 1) for _ in range(2))
            pre, mid, suf = seg[:a], seg[a:b], seg[b:]
            enc = lambda t: self.enc.encode(t, allow_special=False)
            return (fim_prompt(self.enc.special, enc(pre), enc(suf), self.fim_order) + enc(mid) + [self.eot])
        return self.enc.encode(seg, allow_special=False) + [self.eot]

    def sequence(self, rng):
        toks = []
        while len(toks) < self.seq_len + 1:
            toks.extend(self.sample_tokens(rng))
        return toks[: self.seq_len + 1]

    def batch(self, step, batch_size):
        """(x, y): (batch_size, seq_len) int64 each; deterministic in (seed, step)."""
        rng = random.Random(self.seed * 1_000_003 + step)
        rows = [self.sequence(rng) for _ in range(batch_size)]
        t = torch.tensor(rows, dtype=torch.int64)
        return t[:, :-1], t[:, 1:]


def eval_sequences(encoder, docs, seq_len, max_tokens):
    """Plain left-to-right evaluation windows: documents joined by <|endoftext|>, cut into
    non-overlapping (seq_len + 1)-token rows (first max_tokens tokens). Returns (N, seq_len+1)."""
    eot = encoder.special["<|endoftext|>"]
    stream = []
    for d in docs:
        stream.extend(encoder.encode(d["text"], allow_special=False))
        stream.append(eot)
        if len(stream) >= max_tokens + seq_len + 1:
            break
    n = min(len(stream), max_tokens) // (seq_len + 1)
    return torch.tensor(stream[: n * (seq_len + 1)], dtype=torch.int64).view(n, seq_len + 1)
