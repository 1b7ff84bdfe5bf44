# Fill-in-the-middle layout of the training data: the two prompt orders (data.fim_prompt), the
# line-span middles (data.line_end_after) and the sampler's samples, decoded back to text.
import json
import os
import random

import pytest

from slipstream_train import data


SP = {"<|fim_prefix|>": 1, "<|fim_suffix|>": 2, "<|fim_middle|>": 3}


def test_psm_puts_the_prefix_first_and_spm_puts_it_last_next_to_the_middle():
    assert data.fim_prompt(SP, [10, 11], [20], "psm") == [1, 10, 11, 2, 20, 3]
    assert data.fim_prompt(SP, [10, 11], [20], "spm") == [1, 2, 20, 3, 10, 11]
    with pytest.raises(ValueError, match="fim order"):
        data.fim_prompt(SP, [10], [20], "msp")


def test_line_end_after_stops_at_the_cursor_line_or_the_lines_after_it():
    text = "ab\ncd\nef"
    assert data.line_end_after(text, 0, 0) == 2
    assert data.line_end_after(text, 1, 1) == 5
    assert data.line_end_after(text, 4, 0) == 5
    assert data.line_end_after(text, 4, 5) == len(text)
    assert data.line_end_after(text, 2, 0) == 2  # the cursor on a newline: an empty rest of line


@pytest.mark.parametrize("order", ["psm", "spm"])
def test_sampler_samples_decode_to_the_segment_in_the_configured_order(smoke, order):
    enc = smoke.encoder()
    sp = enc.special
    segs = ["const a = 1;\nfunction f(x) {\n  return x + a;\n}\nexport { f };\n"] * 4
    s = data.FimSampler(enc, segs, 64, fim_rate=1.0, seed=0, fim_order=order, fim_line_rate=0.5)
    rng = random.Random(3)
    line_spans = 0
    for _ in range(40):
        t = s.sample_tokens(rng)
        assert t[-1] == sp["<|endoftext|>"] and t[0] == sp["<|fim_prefix|>"]
        body = t[:-1]
        mid_at = body.index(sp["<|fim_middle|>"])
        suf_at = body.index(sp["<|fim_suffix|>"])
        if order == "psm":
            pre, suf, mid = body[1:suf_at], body[suf_at + 1:mid_at], body[mid_at + 1:]
            pre_t, mid_t = enc.decode(pre), enc.decode(mid)
        else:
            assert suf_at == 1
            suf = body[2:mid_at]
            rest = enc.decode(body[mid_at + 1:])  # prefix then middle, adjacent
            pre_t, mid_t = rest, ""
        text = pre_t + mid_t + enc.decode(suf)
        assert text == segs[0]
        if order == "psm" and (mid_t.endswith("\n") is False) and segs[0][len(pre_t) + len(mid_t):].startswith("\n"):
            line_spans += 1
    if order == "psm":
        assert line_spans > 0  # some middles end at a line end
