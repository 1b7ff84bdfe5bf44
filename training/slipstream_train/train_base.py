# Base-model step: trains the Llama model on the FIM/left-to-right mix (data.py) in phases of
# increasing sequence length (short context first, then the full context so every position up to
# max_position_embeddings is trained), AdamW with warmup + cosine decay over all phases. It
# checkpoints every `checkpoint_every` steps (model, optimizer, step, elapsed time) and resumes
# from the checkpoint, so an interrupted run continues where it stopped.
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from . import data
from .model import LlamaConfig, LlamaForCausalLM, n_params


def lr_at(step, total, cfg):
    if step < cfg["warmup"]:
        return cfg["lr"] * (step + 1) / cfg["warmup"]
    frac = (step - cfg["warmup"]) / max(1, total - cfg["warmup"])
    return cfg["lr"] * (cfg["min_lr_ratio"] + (1 - cfg["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def phase_at(step, phases):
    start = 0
    for p in phases:
        if step < start + p["steps"]:
            return p, step - start
        start += p["steps"]
    return phases[-1], step - start


@torch.no_grad()
def eval_loss(model, rows, batch_size=8):
    """Mean next-token cross-entropy (nats/token) over rows: (N, T+1) int64."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, rows.shape[0], batch_size):
        r = rows[i:i + batch_size]
        _, logits, _ = model(r[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), r[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += r[:, 1:].numel()
    model.train()
    return total / max(1, count)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(model_cfg: LlamaConfig, tcfg, encoder, train_docs, val_rows, out_dir, log=print, stop_after=None):
    """Trains (or resumes) the base model. stop_after: stop after this many steps in THIS call
    (used by the resume test to simulate an interruption). Returns (model, summary dict)."""
    os.makedirs(out_dir, exist_ok=True)
    ckpt_path = os.path.join(out_dir, "ckpt.pt")
    torch.manual_seed(tcfg["seed"])
    model = LlamaForCausalLM(model_cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tcfg["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=tcfg["lr"], betas=(0.9, 0.95), eps=1e-8)
    phases = tcfg["phases"]
    total = sum(p["steps"] for p in phases)
    state = {"step": 0, "elapsed_s": 0.0, "tokens": 0, "history": []}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        log(f"resumed base training at step {state['step']}/{total}")
    max_chars = max(p["seq_len"] for p in phases) * 3
    segments = data.segments_of(train_docs, max_chars)
    samplers = {}
    model.train()
    log(f"base model: {n_params(model)} parameters, {total} steps, {len(segments)} segments")
    t_last = time.time()
    steps_this_call = 0
    ema = None
    while state["step"] < total:
        step = state["step"]
        ph, _ = phase_at(step, phases)
        key = ph["seq_len"]
        if key not in samplers:
            samplers[key] = data.FimSampler(encoder, segments, ph["seq_len"], tcfg["fim_rate"], tcfg["seed"],
                                           tcfg.get("fim_order", "psm"), tcfg.get("fim_line_rate", 0.0))
        x, y = samplers[key].batch(step, ph["batch_size"])
        lr = lr_at(step, total, tcfg)
        for g in opt.param_groups:
            g["lr"] = lr
        _, logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.get("grad_clip", 1.0))
        opt.step()
        now = time.time()
        state["elapsed_s"] += now - t_last
        t_last = now
        state["tokens"] += x.numel()
        state["step"] += 1
        steps_this_call += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if state["step"] % tcfg.get("log_every", 10) == 0 or state["step"] == total:
            log(f"step {state['step']}/{total} seq {ph['seq_len']} loss {loss.item():.4f} ema {ema:.4f} "
                f"lr {lr:.2e} tokens {state['tokens']} {state['tokens'] / max(1e-9, state['elapsed_s']):.0f} tok/s")
        if state["step"] % tcfg["eval_every"] == 0 or state["step"] == total:
            vl = eval_loss(model, val_rows)
            state["history"].append({"step": state["step"], "tokens": state["tokens"], "train_loss_ema": ema,
                                     "val_loss": vl, "elapsed_s": state["elapsed_s"]})
            log(f"eval step {state['step']}: val loss {vl:.4f}")
            t_last = time.time()  # evaluation time is not training time
        if state["step"] % tcfg["checkpoint_every"] == 0 or state["step"] == total:
            save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt_path)
        if stop_after is not None and steps_this_call >= stop_after:
            save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt_path)
            break
    summary = {"params": n_params(model), "steps": state["step"], "total_steps": total,
               "tokens": state["tokens"], "train_time_s": state["elapsed_s"], "history": state["history"]}
    json.dump(summary, open(os.path.join(out_dir, "summary.json"), "w"), indent=1)
    model.eval()
    return model, summary
