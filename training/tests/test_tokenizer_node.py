# The Python encoder and @huggingface/tokenizers (npm; what the server uses on tokenizer.json)
# produce the same ids and decode to the same text, on the whole test split and edge cases,
# for the smoke tokenizer and for the shipped one.
import json
import os
import shutil
import subprocess

import pytest

from conftest import REPO
from slipstream_train import bpe
from test_tokenizer import TEXTS

SHIPPED = os.path.join(REPO, "fixtures", "models", "slipstream-code")


def node_encode(tokenizer_dir, texts):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not os.path.isdir(os.path.join(REPO, "node_modules", "@huggingface", "tokenizers")):
        pytest.skip("node_modules/@huggingface/tokenizers missing (run npm install)")
    inp = {"tokenizer": os.path.join(tokenizer_dir, "tokenizer.json"),
           "config": os.path.join(tokenizer_dir, "tokenizer_config.json"), "texts": texts}
    r = subprocess.run(["node", os.path.join(REPO, "training", "tests", "tokenizer-check.cjs")],
                       input=json.dumps(inp), capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check_same(tokenizer_dir, texts):
    enc = bpe.Encoder.load(os.path.join(tokenizer_dir, "tokenizer.json"))
    out = node_encode(tokenizer_dir, texts)
    for t, ids, dec in zip(texts, out["ids"], out["decoded"]):
        assert enc.encode(t) == ids
        assert dec == t


def test_node_matches_the_python_encoder_on_the_smoke_test_split(smoke):
    texts = [d["text"] for d in smoke.docs("test")] + TEXTS
    check_same(smoke.path("tokenizer"), texts)


def test_node_matches_the_python_encoder_on_the_shipped_tokenizer(smoke):
    if not os.path.exists(os.path.join(SHIPPED, "tokenizer.json")):
        pytest.skip("no shipped model in fixtures/models/slipstream-code")
    texts = [d["text"] for d in smoke.docs("test")] + [d["text"] for d in smoke.docs("validation")] + TEXTS
    check_same(SHIPPED, texts)
