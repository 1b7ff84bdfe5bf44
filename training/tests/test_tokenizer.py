# The byte-level BPE: training is deterministic, the encoder round-trips any text exactly
# (code, unicode, special tokens), and tokenizer.json has the HF structure the engine loads.
import json

import pytest

from slipstream_train import bpe

TEXTS = [
    "export function add(a: number, b: number): number {\n\treturn a + b;\n}\n",
    "const s = `héllo ${name} — ünïcødé 日本語 🚀`;\r\n  // comment\u00a0with nbsp\n",
    "\n\n\n    \t  \n",
    "x" * 500,
    "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>c<|endoftext|>",
    # characters where Python's and JavaScript's notions of \\s, letters and numbers could differ
    "a\ufeffb \x85 x\x1cy 1\u00b2\u00b3 \u2163 caf\u00e9\u0301 \u3000\u2028z\u200b\U0001f600 \x00\x7f",
]


@pytest.fixture(scope="module")
def enc(smoke):
    return smoke.encoder()


def test_training_is_deterministic():
    texts = ["function foo() { return bar(1, 2); }\n"] * 3 + ["let x = foo();\nlet y = foo();\n"]
    assert bpe.train_bpe(texts, 300) == bpe.train_bpe(texts, 300)


@pytest.mark.parametrize("text", TEXTS)
def test_encode_then_decode_gives_back_the_text(enc, text):
    assert enc.decode(enc.encode(text)) == text


def test_special_tokens_encode_to_single_ids(enc):
    ids = enc.encode(TEXTS[4])
    for t in ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>"):
        assert enc.special[t] in ids
    # without allow_special, the same text is plain bytes
    assert not set(enc.encode(TEXTS[4], allow_special=False)) & set(enc.special.values())


def test_the_test_split_round_trips(smoke, enc):
    for d in smoke.docs("test"):
        assert enc.decode(enc.encode(d["text"])) == d["text"]


def test_tokenizer_json_has_the_hf_byte_level_bpe_structure(smoke):
    tj = json.load(open(smoke.path("tokenizer", "tokenizer.json"), encoding="utf-8"))
    assert tj["model"]["type"] == "BPE" and tj["pre_tokenizer"]["type"] == "ByteLevel"
    assert tj["decoder"]["type"] == "ByteLevel"
    specials = {t["content"] for t in tj["added_tokens"] if t["special"]}
    assert specials == set(bpe.SPECIAL_TOKENS)
    n = len(tj["model"]["vocab"]) + len(tj["added_tokens"])
    assert n == smoke.cfg["tokenizer"]["vocab_size"]
    ids = sorted(list(tj["model"]["vocab"].values()) + [t["id"] for t in tj["added_tokens"]])
    assert ids == list(range(n))
