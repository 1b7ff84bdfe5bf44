# The whole recipe, step by step: corpus -> tokenizer -> base -> drafter -> eval -> export.
# Every step writes under work/<config name>/ and is skipped when its output exists, and the
# training steps resume from their checkpoints, so rerunning the same command after an
# interruption continues where it stopped. Usage (from training/):
#   ./run.sh --config configs/full.json [--steps corpus,tokenizer,base,drafter,eval,export]
import argparse
import json
import os
import random
import sys
import time

import torch

from . import bpe, corpus

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
STEPS = ["corpus", "tokenizer", "base", "drafter", "eval", "export"]


class Recipe:
    def __init__(self, cfg, work_root=None, log=None):
        self.cfg = cfg
        self.work_root = work_root or os.path.join(TRAINING, "work")
        self.dir = os.path.join(self.work_root, cfg["name"])
        os.makedirs(self.dir, exist_ok=True)
        self.log_file = open(os.path.join(self.dir, "log.txt"), "a")
        self._log = log

    def log(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        self.log_file.write(line + "\n")
        self.log_file.flush()

    def path(self, *p):
        return os.path.join(self.dir, *p)

    # ---- corpus -------------------------------------------------------------------------------
    def corpus_dir(self):
        c = self.cfg["corpus"]
        # the npm corpus is shared by all configs using it; the committed test corpus is per config
        return self.work_root if c["source"] == "npm" else self.dir

    def step_corpus(self):
        c = self.cfg["corpus"]
        if os.path.exists(os.path.join(self.corpus_dir(), "corpus", "stats.json")) and not c.get("rebuild"):
            self.log("corpus: exists")
            return
        t = time.time()
        if c["source"] == "npm":
            stats = corpus.build(self.work_root, only=c.get("only"),
                                 max_package_bytes=c.get("max_package_bytes", corpus.MAX_PACKAGE_BYTES))
        else:
            data_dir = os.path.join(REPO, c["source"])
            stats = corpus.build(self.dir, tarballs=corpus.local_tarballs(data_dir),
                                 max_package_bytes=c.get("max_package_bytes", corpus.MAX_PACKAGE_BYTES))
        self.log(f"corpus: {json.dumps({k: (v['files'], v['bytes']) for k, v in stats.items()})} "
                 f"in {time.time() - t:.1f}s")

    def docs(self, split):
        return corpus.read_split(self.corpus_dir(), split)

    # ---- tokenizer ----------------------------------------------------------------------------
    def step_tokenizer(self):
        out = self.path("tokenizer", "tokenizer.json")
        if os.path.exists(out):
            self.log("tokenizer: exists")
            return
        tc = self.cfg["tokenizer"]
        t = time.time()
        texts = bpe.sample_texts(self.docs("train"), tc["sample_bytes"], seed=tc.get("seed", 0))
        merges = bpe.train_bpe(texts, tc["vocab_size"], log=self.log)
        os.makedirs(self.path("tokenizer"), exist_ok=True)
        json.dump(bpe.tokenizer_json(merges), open(out + ".tmp", "w", encoding="utf-8"), ensure_ascii=False)
        json.dump(bpe.tokenizer_config(self.cfg["model"]["max_position_embeddings"]),
                  open(self.path("tokenizer", "tokenizer_config.json"), "w"), indent=1)
        os.replace(out + ".tmp", out)
        self.log(f"tokenizer: {len(merges)} merges from {sum(map(len, texts))} chars in {time.time() - t:.1f}s")

    def encoder(self):
        return bpe.Encoder.load(self.path("tokenizer", "tokenizer.json"))

    def model_config(self):
        from .model import LlamaConfig
        enc = self.encoder()
        m = dict(self.cfg["model"])
        m["vocab_size"] = len(enc.vocab)
        m["bos_token_id"] = enc.special["<|endoftext|>"]
        m["eos_token_id"] = enc.special["<|endoftext|>"]
        return LlamaConfig.from_dict(m)

    def eval_rows(self, split, seq_len, max_tokens):
        from . import data
        docs = self.docs(split)
        random.Random(1234).shuffle(docs)
        return data.eval_sequences(self.encoder(), docs, seq_len, max_tokens)

    # ---- base ---------------------------------------------------------------------------------
    def step_base(self, stop_after=None):
        from . import train_base
        if os.path.exists(self.path("base", "summary.json")) and stop_after is None:
            s = json.load(open(self.path("base", "summary.json")))
            if s["steps"] >= s["total_steps"]:
                self.log("base: done")
                return
        bc = self.cfg["base"]
        val = self.eval_rows("validation", bc["eval_seq_len"], bc["eval_tokens"])
        train_base.train(self.model_config(), bc, self.encoder(), self.docs("train"), val,
                         self.path("base"), log=self.log, stop_after=stop_after)

    def base_model(self):
        from .model import LlamaForCausalLM
        m = LlamaForCausalLM(self.model_config())
        m.load_state_dict(torch.load(self.path("base", "ckpt.pt"))["model"])
        m.eval()
        return m

    # ---- drafter, eval, export ----------------------------------------------------------------
    def step_drafter(self, stop_after=None):
        from . import train_drafter
        train_drafter.run(self, stop_after=stop_after)

    def step_eval(self):
        from . import evaluate
        evaluate.run(self)

    def step_export(self):
        from . import export
        export.run(self)


def set_threads(cfg):
    torch.set_num_threads(cfg.get("torch_threads", 1))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Slipstream training recipe")
    ap.add_argument("--config", default=os.path.join(TRAINING, "configs", "full.json"))
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--work", default=None, help="work root (default training/work)")
    args = ap.parse_args(argv)
    cfg = json.load(open(args.config))
    set_threads(cfg)
    r = Recipe(cfg, args.work)
    for s in args.steps.split(","):
        if s not in STEPS:
            raise SystemExit(f"unknown step {s!r}; steps are {','.join(STEPS)}")
        t = time.time()
        getattr(r, "step_" + s)()
        r.log(f"step {s} finished in {time.time() - t:.1f}s")


if __name__ == "__main__":
    main()
