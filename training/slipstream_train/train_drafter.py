# Drafter step (docs/redrafter.md §3): distillation on the frozen base model's own greedy outputs.
# 1. Prompts are cut from training segments (half FIM prompts ending in <|fim_middle|>, half plain
#    left-to-right), and the frozen base continues each greedily (batched, KV cache).
# 2. The base's post-norm hidden states over prompt + continuation are computed once.
# 3. The drafter trains with the sum of the 5 lookahead cross-entropies (§3.1) on targets inside
#    the generated continuation only (what the base would produce at inference).
# Checkpoints every `checkpoint_every` steps and resumes (generation results are cached on disk).
import json
import math
import os
import random
import time

import torch

from . import data
from .drafter import Drafter, train_step


@torch.no_grad()
def generate_batch(model, prompts, gen_len, eos):
    """Left-padded batched greedy generation. prompts: list of token lists (equal lengths are not
    required). Returns the (prompt + continuation) token lists, the prompt lengths and the base's
    post-norm hidden states hs: (B, S, H), hs[:, 0] at the last prompt position and hs[:, j] at the
    j-th generated token (the last generated token of a row that ran to gen_len has none: zeros)."""
    B = len(prompts)
    P = max(len(p) for p in prompts)
    pad = [P - len(p) for p in prompts]
    ids = torch.tensor([[eos] * pad[b] + prompts[b] for b in range(B)], dtype=torch.int64)  # (B, P)
    # left padding: pad keys are masked out; positions start at 0 at each row's first real token
    pos = torch.clamp(torch.arange(P)[None] - torch.tensor(pad)[:, None], min=0)  # (B, P)
    keymask = torch.arange(P)[None] >= torch.tensor(pad)[:, None]                 # (B, P) real keys
    causal = torch.ones(P, P, dtype=torch.bool).tril()
    out = [list(p) for p in prompts]
    done = [False] * B
    # mask per row differs, so run rows' prefill in one call with a (B, 1, P, P) mask
    mask = (causal[None] & keymask[:, None, :])[:, None]  # (B, 1, P, P)
    mask = mask | torch.eye(P, dtype=torch.bool)[None, None]  # pad rows attend to themselves
    h, logits, past = model(ids, positions=pos, mask=mask)
    hs = [h[:, -1]]
    cur_pos = pos[:, -1] + 1
    nxt = logits[:, -1].argmax(-1)
    for s in range(gen_len):
        for b in range(B):
            if not done[b]:
                out[b].append(int(nxt[b]))
                if int(nxt[b]) == eos:
                    done[b] = True
        if all(done) or s == gen_len - 1:
            break
        keymask = torch.cat([keymask, torch.ones(B, 1, dtype=torch.bool)], dim=1)
        m = keymask[:, None, None, :]  # (B, 1, 1, P+s+1)
        h, logits, past = model(nxt[:, None], positions=cur_pos[:, None], past=past, mask=m)
        hs.append(h[:, -1])
        cur_pos = cur_pos + 1
        nxt = logits[:, -1].argmax(-1)
    hs.append(torch.zeros_like(hs[0]))
    return out, [len(p) for p in prompts], torch.stack(hs, dim=1)


def make_prompts(enc, segments, n, min_len, max_len, fim_rate, seed, fim_order="psm"):
    """n prompts of min_len..max_len tokens: FIM prompts in the base model's order (data.fim_prompt)."""
    rng = random.Random(seed)
    sp = enc.special
    out = []
    while len(out) < n:
        seg = segments[rng.randrange(len(segments))]
        if len(seg) < 200:
            continue
        L = rng.randint(min_len, max_len)
        if rng.random() < fim_rate:
            a = rng.randrange(len(seg) // 4, len(seg))
            b = min(len(seg), a + rng.randint(0, 200))
            pre = enc.encode(seg[:a], allow_special=False)[-(L * 3 // 4):]
            suf = enc.encode(seg[b:], allow_special=False)[:L // 4]
            p = data.fim_prompt(sp, pre, suf, fim_order)
        else:
            toks = enc.encode(seg, allow_special=False)
            if len(toks) < 16:
                continue
            cut = rng.randint(8, max(8, len(toks) - 8))
            p = toks[max(0, cut - L):cut]
        out.append(p)
    return out


def build_distillation_set(recipe, model, dc):
    path = recipe.path("drafter", "distill.pt")
    if os.path.exists(path):
        return torch.load(path)
    enc = recipe.encoder()
    eos = enc.special["<|endoftext|>"]
    segments = data.segments_of(recipe.docs("train"), 3000)
    prompts = make_prompts(enc, segments, dc["n_sequences"], dc["prompt_min"], dc["prompt_max"],
                           dc["fim_rate"], dc["seed"], recipe.cfg["base"].get("fim_order", "psm"))
    seqs, plens, hids = [], [], []
    t = time.time()
    # sort by length so batches need little padding
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    bs = dc["gen_batch"]
    for i in range(0, len(order), bs):
        batch = [prompts[j] for j in order[i:i + bs]]
        s, pl, hs = generate_batch(model, batch, dc["gen_len"], eos)
        seqs.extend(s)
        plens.extend(pl)
        hids.extend(hs[b, :len(s[b]) - pl[b] + 1].clone() for b in range(len(s)))
        if (i // bs) % 10 == 0:
            recipe.log(f"drafter data: {len(seqs)}/{len(prompts)} sequences generated ({time.time() - t:.0f}s)")
    gen_tokens = sum(len(s) - p for s, p in zip(seqs, plens))
    res = {"seqs": seqs, "plens": plens, "hids": hids, "gen_tokens": gen_tokens, "gen_time_s": time.time() - t}
    torch.save(res, path)
    recipe.log(f"drafter data: {len(seqs)} sequences, {gen_tokens} generated tokens in {res['gen_time_s']:.0f}s")
    return res


@torch.no_grad()
def hidden_windows(model, seqs, plens, hids):
    """Windows [plen-1, len) of every sequence: the last prompt position (whose base output is
    g0) and the generated tokens, with the base's hidden states recorded during generation.
    Returns ids (N, W), hid (N, W, H), emb (N, W, H) base input embeddings, valid (N, W) bool."""
    W = max(len(s) - p + 1 for s, p in zip(seqs, plens))
    N, H = len(seqs), model.cfg.hidden_size
    ids = torch.zeros(N, W, dtype=torch.int64)
    hid = torch.zeros(N, W, H)
    valid = torch.zeros(N, W, dtype=torch.bool)
    for r in range(N):
        w = seqs[r][plens[r] - 1:]
        ids[r, :len(w)] = torch.tensor(w)
        hid[r, :len(w)] = hids[r][:len(w)]
        valid[r, :len(w)] = True
    return ids, hid, model.model.embed_tokens(ids).detach(), valid


def batches(n, batch_size, rng):
    order = list(range(n))
    rng.shuffle(order)
    for i in range(0, n - batch_size + 1, batch_size):
        yield torch.tensor(order[i:i + batch_size])


def run(recipe, stop_after=None):
    dc = recipe.cfg["drafter"]
    out_dir = recipe.path("drafter")
    os.makedirs(out_dir, exist_ok=True)
    summary_path = os.path.join(out_dir, "summary.json")
    if os.path.exists(summary_path) and stop_after is None:
        recipe.log("drafter: done")
        return
    model = recipe.base_model()
    for p in model.parameters():
        p.requires_grad_(False)
    dset = build_distillation_set(recipe, model, dc)
    seqs, plens = dset["seqs"], dset["plens"]
    w_ids, w_hid, w_emb, w_valid = hidden_windows(model, seqs, plens, dset["hids"])
    H, V = model.cfg.hidden_size, model.cfg.vocab_size
    torch.manual_seed(dc["seed"])
    drafter = Drafter(V, H, dc["exit_dim"] if dc["exit_dim"] > 0 else 2 * H, dc["num_draft_layers"], True)
    opt = torch.optim.AdamW(drafter.parameters(), lr=dc["lr"], weight_decay=0.0)
    steps_per_epoch = len(seqs) // dc["batch_size"]
    total = steps_per_epoch * dc["epochs"]
    warm = max(1, int(total * dc.get("warmup_ratio", 0.1)))
    ckpt = os.path.join(out_dir, "ckpt.pt")
    state = {"step": 0, "elapsed_s": 0.0, "history": []}
    if os.path.exists(ckpt):
        ck = torch.load(ckpt)
        drafter.load_state_dict(ck["drafter"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        recipe.log(f"resumed drafter training at step {state['step']}/{total}")
    recipe.log(f"drafter: {sum(p.numel() for p in drafter.parameters())} params, {total} steps")
    t_last = time.time()
    done_this_call = 0
    while state["step"] < total:
        epoch = state["step"] // steps_per_epoch
        rng = random.Random(dc["seed"] * 7919 + epoch)
        for k, rows in enumerate(batches(len(seqs), dc["batch_size"], rng)):
            if epoch * steps_per_epoch + k < state["step"]:
                continue  # resume inside an epoch
            step = state["step"]
            lr = dc["lr"] * (step + 1) / warm if step < warm else \
                dc["lr"] * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
            for g in opt.param_groups:
                g["lr"] = lr
            # window column 0 is the last prompt position (its base output is g0); targets of the
            # drafter (column >= 2) are all generated tokens
            ids, hid, emb, lmask = w_ids[rows], w_hid[rows], w_emb[rows], w_valid[rows]  # (B, W[, H])
            loss, accs = train_step(drafter, opt, hid, emb, ids, lmask, dc["lookahead"])
            now = time.time()
            state["elapsed_s"] += now - t_last
            t_last = now
            state["step"] += 1
            done_this_call += 1
            if state["step"] % dc.get("log_every", 20) == 0 or state["step"] == total:
                recipe.log(f"drafter step {state['step']}/{total} loss {loss.item():.3f} "
                           f"top1 acc per lookahead {[round(a, 3) for a in accs]}")
                state["history"].append({"step": state["step"], "loss": loss.item(), "acc": accs})
            if state["step"] % dc["checkpoint_every"] == 0 or state["step"] == total or \
                    (stop_after is not None and done_this_call >= stop_after):
                torch.save({"drafter": drafter.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt + ".tmp")
                os.replace(ckpt + ".tmp", ckpt)
            if state["step"] >= total or (stop_after is not None and done_this_call >= stop_after):
                break
        if stop_after is not None and done_this_call >= stop_after:
            return
    json.dump({"params": sum(p.numel() for p in drafter.parameters()), "config": drafter.config(),
               "steps": state["step"], "train_time_s": state["elapsed_s"], "gen_time_s": dset["gen_time_s"],
               "sequences": len(seqs), "gen_tokens": dset["gen_tokens"], "history": state["history"]},
              open(summary_path, "w"), indent=1)


def load_drafter(recipe):
    ck = torch.load(recipe.path("drafter", "ckpt.pt"))
    dc = recipe.cfg["drafter"]
    m = recipe.base_model()
    H, V = m.cfg.hidden_size, m.cfg.vocab_size
    d = Drafter(V, H, dc["exit_dim"] if dc["exit_dim"] > 0 else 2 * H, dc["num_draft_layers"], True)
    d.load_state_dict(ck["drafter"])
    d.eval()
    return d
