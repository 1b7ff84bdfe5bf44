# Training data for the base model: documents are cut at line boundaries into segments that fit
# the context, and each training sequence packs samples until it holds seq_len + 1 tokens. A sample
# is, with probability fim_rate, a fill-in-the-middle sample in PSM order
#   <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|endoftext|>
# (cut points uniform over characters, so the cursor may sit mid-word as in an editor), otherwise
# plain left-to-right text followed by <|endoftext|>. Batches are a pure function of (seed, step),
# so a resumed run sees exactly the batches the interrupted one would have.
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


class FimSampler:
    def __init__(self, encoder, segments, seq_len, fim_rate=0.5, seed=0):
        self.enc = encoder
        self.segments = segments
        self.seq_len = seq_len
        self.fim_rate = fim_rate
        self.seed = seed
        sp = encoder.special
        self.eot, self.pre, self.suf, self.mid = (sp["<|endoftext|>"], sp["<|fim_prefix|>"],
                                                  sp["<|fim_suffix|>"], sp["<|fim_middle|>"])
        # sample segments in proportion to their length
        lens = np.array([len(s) for s in segments], dtype=np.float64)
        self.cum = np.cumsum(lens / lens.sum())

    def sample_tokens(self, rng):
        seg = self.segments[min(int(np.searchsorted(self.cum, rng.random())), len(self.segments) - 1)]
        if rng.random() < self.fim_rate and len(seg) > 2:
            a, b = sorted(rng.randrange(0, len(seg) + 1) for _ in range(2))
            pre, mid, suf = seg[:a], seg[a:b], seg[b:]
            return ([self.pre] + self.enc.encode(pre, allow_special=False) + [self.suf] +
                    self.enc.encode(suf, allow_special=False) + [self.mid] +
                    self.enc.encode(mid, allow_special=False) + [self.eot])
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
