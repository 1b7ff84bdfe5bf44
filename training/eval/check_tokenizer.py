# Checks that @huggingface/tokenizers (npm, what the server uses) encodes and decodes every file of
# a corpus split exactly as the recipe's Python BPE encoder does. Usage (from the repository root):
#   /usr/bin/python3 training/eval/check_tokenizer.py --tokenizer fixtures/models/slipstream-code \
#       [--split test] [--work training/work]
import argparse
import json
import os
import subprocess
import sys

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TRAINING)
from slipstream_train import bpe, corpus  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True, help="folder with tokenizer.json and tokenizer_config.json")
    ap.add_argument("--split", default="test")
    ap.add_argument("--work", default=os.path.join(TRAINING, "work"))
    args = ap.parse_args()
    docs = corpus.read_split(args.work, args.split)
    texts = [d["text"] for d in docs]
    enc = bpe.Encoder.load(os.path.join(args.tokenizer, "tokenizer.json"))
    inp = {"tokenizer": os.path.abspath(os.path.join(args.tokenizer, "tokenizer.json")),
           "config": os.path.abspath(os.path.join(args.tokenizer, "tokenizer_config.json")), "texts": texts}
    r = subprocess.run(["node", os.path.join(TRAINING, "tests", "tokenizer-check.cjs")], input=json.dumps(inp),
                       capture_output=True, text=True, cwd=os.path.dirname(TRAINING))
    if r.returncode != 0:
        sys.exit(r.stderr)
    out = json.loads(r.stdout)
    bad_ids = sum(enc.encode(t) != ids for t, ids in zip(texts, out["ids"]))
    bad_dec = sum(t != d for t, d in zip(texts, out["decoded"]))
    n_tok = sum(len(i) for i in out["ids"])
    n_bytes = sum(len(t.encode()) for t in texts)
    print(json.dumps({"split": args.split, "files": len(texts), "bytes": n_bytes, "tokens": n_tok,
                      "bytes_per_token": round(n_bytes / max(1, n_tok), 3), "id_mismatches": bad_ids,
                      "decode_mismatches": bad_dec}))
    sys.exit(1 if bad_ids or bad_dec else 0)


if __name__ == "__main__":
    main()
