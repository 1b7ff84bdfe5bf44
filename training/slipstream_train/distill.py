# `slipstream train-drafter`'s training step (docs/training.md, "Train a drafter for your model"):
# trains a ReDrafter head alone on data the engine recorded from the base model's own greedy
# generations (server/src/cli/train-drafter/record.ts): per sequence a window of token ids
# [last prompt token, generated tokens...] and the base's post-norm hidden state c for every window
# column but the last (f16, memory-mapped). Loss: the sum of the 5 lookahead cross-entropies
# (docs/redrafter.md §3.1, drafter.lookahead_loss). The base's input embeddings are read straight
# from its safetensors (F32/BF16/F16, one file or shards). Stops at --budget-minutes (time spent
# in training, kept across resumes) or --max-steps, checkpoints to WORK/ckpt.pt and resumes from it,
# prints a progress line with an ETA to stderr, and exports the head in the layout the engine loads.
#
#   python3 -m slipstream_train.distill --data DIR --model DIR --out DIR --work DIR --budget-minutes M
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch

from .drafter import Drafter, train_step
from .export import write_drafter_folder

DATA_FORMAT = "slipstream-drafter-data/1"
EMBED_NAME = "model.embed_tokens.weight"
LM_HEAD_NAME = "lm_head.weight"


def log(msg):
    sys.stderr.write(f"distill: {msg}\n")
    sys.stderr.flush()


# ---- the base model's tensors ------------------------------------------------------------------

def _safetensors_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), 8 + n


def find_tensor_file(model_dir, name):
    """The safetensors file of model_dir that holds tensor name (model.safetensors or the shard the
    index names), or None when the model has no such tensor."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        shard = json.load(open(index))["weight_map"].get(name)
        return os.path.join(model_dir, shard) if shard else None
    path = os.path.join(model_dir, "model.safetensors")
    header, _ = _safetensors_header(path)
    return path if name in header else None


def read_tensor(model_dir, name):
    """One tensor of the base model as float32 (V, H), read through a memory map: F32, BF16 or F16."""
    path = find_tensor_file(model_dir, name)
    if path is None:
        raise KeyError(f"{model_dir}: no tensor {name}")
    header, base = _safetensors_header(path)
    h = header[name]
    a, b = h["data_offsets"]
    shape = h["shape"]
    dt = h["dtype"]
    if dt == "F32":
        arr = np.memmap(path, dtype="<f4", mode="r", offset=base + a, shape=tuple(shape))
        return torch.from_numpy(np.array(arr, dtype=np.float32))
    if dt == "F16":
        arr = np.memmap(path, dtype="<f2", mode="r", offset=base + a, shape=tuple(shape))
        return torch.from_numpy(np.array(arr, dtype=np.float32))
    if dt == "BF16":
        arr = np.memmap(path, dtype="<u2", mode="r", offset=base + a, shape=tuple(shape))
        return torch.from_numpy((np.array(arr, dtype=np.uint32) << 16).view(np.float32))
    raise ValueError(f"{path}: {name} has dtype {dt}; F32, BF16 and F16 are supported")


def base_output_matrix(model_dir):
    """The base's output layer (V, H): lm_head.weight, or the embeddings when the head is tied."""
    return read_tensor(model_dir, LM_HEAD_NAME if find_tensor_file(model_dir, LM_HEAD_NAME) else EMBED_NAME)


# ---- the recorded data -------------------------------------------------------------------------

class Recorded:
    """The data folder: index.json, tokens.i32 (int32) and hidden.f16 ((rows, H) float16)."""

    def __init__(self, data_dir):
        idx = json.load(open(os.path.join(data_dir, "index.json")))
        if idx.get("format") != DATA_FORMAT:
            raise ValueError(f"{data_dir}/index.json: format {idx.get('format')!r}, expected {DATA_FORMAT}")
        if idx["hidden_dtype"] != "f16":
            raise ValueError(f"{data_dir}/index.json: hidden_dtype {idx['hidden_dtype']}, expected f16")
        self.index = idx
        self.H, self.V = idx["hidden_size"], idx["vocab_size"]
        self.tokens = np.memmap(os.path.join(data_dir, idx["tokens_file"]), dtype="<i4", mode="r")
        self.hidden = np.memmap(os.path.join(data_dir, idx["hidden_file"]), dtype="<f2", mode="r").reshape(-1, self.H)
        # sequences: [tokens_offset, hidden_offset, n]: n + 1 window ids, n hidden rows
        self.seqs = [s for s in idx["sequences"] if s[2] >= 2]
        self.positions = sum(s[2] for s in self.seqs)

    def batch(self, rows):
        """ids (B, W) int64, hid (B, W, H) float32, valid (B, W) bool for the sequences `rows`."""
        seqs = [self.seqs[r] for r in rows]
        W = max(n + 1 for _, _, n in seqs)
        B = len(seqs)
        ids = np.zeros((B, W), dtype=np.int64)
        hid = np.zeros((B, W, self.H), dtype=np.float32)
        valid = np.zeros((B, W), dtype=bool)
        for b, (to, ho, n) in enumerate(seqs):
            ids[b, :n + 1] = self.tokens[to:to + n + 1]
            hid[b, :n] = self.hidden[ho:ho + n]
            valid[b, :n + 1] = True
        return torch.from_numpy(ids), torch.from_numpy(hid), torch.from_numpy(valid)


# ---- training ----------------------------------------------------------------------------------

def make_drafter(V, H, exit_dim, layers, out_matrix=None):
    """A Drafter (drafter.py). With exit_dim == H and the base's output matrix given, starts as
    the base's own head: input_proj passes c through ([I, 0]), the residual blocks are the
    identity, and lm_head = the base's (V, H), so step 0 drafts what the base would say after c."""
    d = Drafter(V, H, exit_dim, layers, True)
    if out_matrix is not None and exit_dim == H:
        with torch.no_grad():
            d.input_proj.weight.zero_()
            d.input_proj.weight[:, :H] = torch.eye(H)
            d.input_proj.bias.zero_()
            d.lm_head[-1].weight.copy_(out_matrix)
            for blk in d.lm_head[:-1]:
                blk.linear.bias.zero_()  # weight is zero already: the block is the identity
    return d


# Above this many output-layer parameters (V x E) the default exit_dim drops from 2H to H.
BIG_OUTPUT_LAYER = 300_000_000


def default_exit_dim(V, H):
    """Apple's E = 2H (no input_proj) while the drafter's output layer V x 2H stays under
    BIG_OUTPUT_LAYER parameters (with AdamW, 16 bytes each in training); else E = H."""
    return 2 * H if V * 2 * H <= BIG_OUTPUT_LAYER else H


def lr_at(frac, lr, warm=0.05, floor=0.1):
    """Warmup over the first `warm` of the run, then cosine to floor * lr; frac in [0, 1]."""
    if frac < warm:
        return lr * max(frac / warm, 0.02)
    t = min(1.0, (frac - warm) / (1 - warm))
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def fmt_s(s):
    s = max(0, int(s))
    return f"{s // 60}m{s % 60:02d}s"


def train(args):
    torch.manual_seed(args.seed)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("distill: --device cuda, but PyTorch sees no CUDA device")
    data = Recorded(args.data)
    if not data.seqs:
        raise SystemExit(f"distill: {args.data} holds no sequence of 2 or more generated tokens")
    H, V = data.H, data.V
    emb_w = read_tensor(args.model, EMBED_NAME)
    if tuple(emb_w.shape) != (V, H):
        raise SystemExit(f"distill: {EMBED_NAME} is {list(emb_w.shape)}, the data says ({V}, {H})")
    emb = torch.nn.Embedding.from_pretrained(emb_w.to(device), freeze=True)
    E = args.exit_dim or default_exit_dim(V, H)
    drafter = make_drafter(V, H, E, args.layers, base_output_matrix(args.model) if E == H else None).to(device)
    opt = torch.optim.AdamW(drafter.parameters(), lr=args.lr, weight_decay=0.0)
    W = max(n + 1 for _, _, n in data.seqs)
    batch_positions = args.batch_positions or min(2048, max(W, int(1e8 // (V * args.lookahead))))
    B = max(1, min(len(data.seqs), batch_positions // W))
    os.makedirs(args.work, exist_ok=True)
    ckpt = os.path.join(args.work, "ckpt.pt")
    state = {"step": 0, "elapsed_s": 0.0, "epoch": 0, "cursor": 0, "history": [], "loss_ema": None}
    shape = {"V": V, "H": H, "E": E, "layers": args.layers, "positions": data.positions}
    if os.path.exists(ckpt):
        ck = torch.load(ckpt, map_location=device)
        if ck.get("shape") != shape:
            log(f"ignoring {ckpt}: it was made for {ck.get('shape')}, this run is {shape}")
        else:
            drafter.load_state_dict(ck["drafter"])
            opt.load_state_dict(ck["opt"])
            state = ck["state"]
            log(f"resumed at step {state['step']} ({state['elapsed_s'] / 60:.2f} of {args.budget_minutes} min spent)")
    n_params = sum(p.numel() for p in drafter.parameters())
    log(f"{n_params:,} parameters (E {E}, {args.layers} layer(s), V {V}, H {H}) on {device}; "
        f"{len(data.seqs)} sequences, {data.positions:,} positions; batch {B} x {W}")
    budget_s = args.budget_minutes * 60
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(data.seqs))
    for _ in range(state["epoch"]):
        order = rng.permutation(len(data.seqs))

    def save():
        torch.save({"drafter": drafter.state_dict(), "opt": opt.state_dict(), "state": state, "shape": shape}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    def frac():
        f = state["elapsed_s"] / budget_s if budget_s > 0 else 1.0
        if args.max_steps:
            f = max(f, state["step"] / args.max_steps)
        return f

    t_last = time.time()
    last_log = last_save = t_last
    done_here = 0
    while frac() < 1.0 and not (args.stop_after and done_here >= args.stop_after):
        if state["cursor"] + B > len(order):
            state["epoch"] += 1
            state["cursor"] = 0
            order = rng.permutation(len(data.seqs))
        rows = order[state["cursor"]:state["cursor"] + B]
        state["cursor"] += B
        for g in opt.param_groups:
            g["lr"] = lr_at(frac(), args.lr)
        ids, hid, valid = data.batch(rows)
        ids, hid, valid = ids.to(device), hid.to(device), valid.to(device)
        loss, accs = train_step(drafter, opt, hid, emb(ids), ids, valid, args.lookahead)
        now = time.time()
        state["elapsed_s"] += now - t_last
        t_last = now
        state["step"] += 1
        done_here += 1
        lv = loss.item()
        state["loss_ema"] = lv if state["loss_ema"] is None else 0.95 * state["loss_ema"] + 0.05 * lv
        state["accs"] = accs
        if now - last_log >= args.log_seconds or frac() >= 1.0:
            last_log = now
            rate = state["step"] / max(state["elapsed_s"], 1e-9)
            eta = budget_s - state["elapsed_s"]
            if args.max_steps:
                eta = min(eta, (args.max_steps - state["step"]) / max(rate, 1e-9))
            log(f"step {state['step']} | epoch {state['epoch']} | {state['elapsed_s'] / 60:.2f}/{args.budget_minutes} min | "
                f"loss {state['loss_ema']:.3f} | top-1 per lookahead {[round(a, 2) for a in accs]} | "
                f"{rate * B * W:,.0f} positions/s | ETA {fmt_s(eta)}")
            state["history"].append({"step": state["step"], "loss": state["loss_ema"], "acc": accs})
        if now - last_save >= args.checkpoint_seconds:
            last_save = now
            save()
    save()
    drafter.eval()
    dtype = args.export_dtype
    write_drafter_folder(drafter, args.out, dtype)
    summary = {"params": n_params, "exit_dim": E, "num_draft_layers": args.layers, "lookahead": args.lookahead,
               "steps": state["step"], "epochs": state["epoch"] + state["cursor"] / max(1, len(order)),
               "train_time_s": state["elapsed_s"], "batch": [B, W], "device": device, "lr": args.lr,
               "sequences": len(data.seqs), "positions": data.positions, "loss": state["loss_ema"],
               "top1_per_lookahead": state.get("accs", []), "export_dtype": dtype, "history": state["history"][-20:],
               "seconds_per_step": state["elapsed_s"] / max(1, state["step"]),
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    json.dump(summary, open(os.path.join(args.work, "train-summary.json"), "w"), indent=1)
    log(f"exported {args.out} after {state['step']} steps ({state['elapsed_s'] / 60:.2f} min, "
        f"{summary['seconds_per_step']:.2f} s per step of {B} x {W} positions, peak memory {summary['peak_rss_mb']:.0f} MB)")
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(prog="slipstream_train.distill", description=__doc__)
    p.add_argument("--data", required=True, help="folder with index.json, tokens.i32, hidden.f16")
    p.add_argument("--model", required=True, help="the base model folder (its embeddings are read)")
    p.add_argument("--out", required=True, help="where the drafter folder is written")
    p.add_argument("--work", required=True, help="checkpoint and summary folder")
    p.add_argument("--budget-minutes", type=float, required=True, help="training time, kept across resumes")
    p.add_argument("--max-steps", type=int, default=0, help="also stop after this many steps (0: none)")
    p.add_argument("--stop-after", type=int, default=0, help="stop after this many steps in this call (an interruption, for tests)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--exit-dim", type=int, default=0, help="E (0: 2H, or H with input_proj when V x 2H > 300M)")
    p.add_argument("--layers", type=int, default=2, help="residual layers")
    p.add_argument("--lookahead", type=int, default=5)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--batch-positions", type=int, default=0, help="window positions per batch (0: by vocabulary size)")
    p.add_argument("--export-dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=int(os.environ.get("SLIPSTREAM_TORCH_THREADS", "1")))
    p.add_argument("--log-seconds", type=float, default=5.0)
    p.add_argument("--checkpoint-seconds", type=float, default=30.0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    train(args)


if __name__ == "__main__":
    main()
