# Evaluation step (writes work/<name>/eval/results.json; the model cards and docs/training.md
# quote it):
# 1. validation and test loss (plain left-to-right, context-length windows, nats/token);
# 2. FIM completion on held-out test files with the cursor at random positions: the middle runs
#    from the cursor to the end of the cursor's line or of one of the next two lines; greedy
#    decoding until <|endoftext|>; exact match and first-line-correct rates;
# 3. drafter accepted tokens per base forward (greedy ReDrafter simulated in speculative.py, the
#    guaranteed token included) for beam widths x beam lengths, checked equal to plain greedy.
import json
import os
import random
import time

import torch

from . import data, speculative, train_base
from .train_drafter import load_drafter


def fim_cases(docs, n, seed, enc, prefix_tokens, suffix_tokens):
    rng = random.Random(seed)
    cases = []
    tries = 0
    while len(cases) < n and tries < n * 50:
        tries += 1
        d = docs[rng.randrange(len(docs))]
        text = d["text"]
        if len(text) < 200:
            continue
        cur = rng.randrange(0, len(text))
        end = cur
        for _ in range(rng.choice([0, 0, 1, 2]) + 1):
            nl = text.find("\n", end + (0 if end == cur else 1))
            end = len(text) if nl < 0 else nl
        middle = text[cur:end]
        if not middle.strip() or len(middle) > 300:
            continue
        pre_ids = enc.encode(text[:cur], allow_special=False)[-prefix_tokens:]
        suf_ids = enc.encode(text[end:], allow_special=False)[:suffix_tokens]
        cases.append({"package": d["package"], "path": d["path"], "cursor": cur,
                      "prefix_ids": pre_ids, "suffix_ids": suf_ids, "middle": middle,
                      "prefix_tail": "\n".join(text[:cur].split("\n")[-4:]),
                      "suffix_head": "\n".join(text[end:].split("\n")[:2])})
    return cases


def first_line(s):
    return s.split("\n", 1)[0].rstrip()


def run_fim(model, enc, cases, max_new, log, fim_order="psm"):
    sp = enc.special
    eot = sp["<|endoftext|>"]
    em = fl = 0
    for i, c in enumerate(cases):
        prompt = data.fim_prompt(sp, c["prefix_ids"], c["suffix_ids"], fim_order)
        out = speculative.greedy_plain(model, prompt, max_new, eos=eot)
        if out and out[-1] == eot:
            out = out[:-1]
        gen = enc.decode(out)
        c["generated"] = gen
        c["exact"] = gen.rstrip() == c["middle"].rstrip()
        c["first_line"] = first_line(gen) == first_line(c["middle"])
        em += c["exact"]
        fl += c["first_line"]
        if (i + 1) % 50 == 0:
            log(f"fim eval {i + 1}/{len(cases)}: exact {em / (i + 1):.3f} first line {fl / (i + 1):.3f}")
    return {"cases": len(cases), "exact_match": em / max(1, len(cases)), "first_line_correct": fl / max(1, len(cases))}


def drafter_prompts(docs, enc, n, seed, prompt_len, fim_order="psm"):
    """Held-out prompts: half FIM (ending in <|fim_middle|>), half plain (a file's first lines cut)."""
    rng = random.Random(seed)
    sp = enc.special
    out = []
    while len(out) < n:
        d = docs[rng.randrange(len(docs))]
        toks = enc.encode(d["text"], allow_special=False)
        if len(toks) < prompt_len + 64:
            continue
        cut = rng.randrange(prompt_len, len(toks) - 32)
        if len(out) % 2 == 0:
            out.append(toks[cut - prompt_len:cut])
        else:
            out.append(data.fim_prompt(sp, toks[cut - prompt_len * 3 // 4:cut],
                                       toks[cut + 24:cut + 24 + prompt_len // 4], fim_order))
    return out


def run_drafter_grid(model, drafter, prompts, widths, lengths, max_new, eos, log):
    plain = [speculative.greedy_plain(model, p, max_new, eos=eos) for p in prompts]
    grid = []
    for M in widths:
        for L in lengths:
            t = time.time()
            steps = toks = mismatches = 0
            for p, ref in zip(prompts, plain):
                out, per_step = speculative.greedy_redrafter(model, drafter, p, max_new, M, L, eos=eos)
                mismatches += out != ref
                steps += len(per_step)
                toks += sum(per_step)
            r = {"beam_width": M, "beam_length": L, "drafted_tokens": L - 1,
                 "tokens_per_step": toks / max(1, steps), "base_forwards": steps, "tokens": toks,
                 "outputs_differing_from_plain_greedy": mismatches, "sim_time_s": round(time.time() - t, 1)}
            log(f"drafter M={M} L={L}: {r['tokens_per_step']:.3f} tokens/step, {mismatches} mismatches")
            grid.append(r)
    return grid


def run(recipe):
    ec = recipe.cfg["eval"]
    out_dir = recipe.path("eval")
    os.makedirs(out_dir, exist_ok=True)
    res_path = os.path.join(out_dir, "results.json")
    if os.path.exists(res_path):
        recipe.log("eval: exists")
        return
    torch.manual_seed(0)
    model = recipe.base_model()
    enc = recipe.encoder()
    res = {}
    t = time.time()
    for split in ("validation", "test"):
        rows = recipe.eval_rows(split, ec["loss_seq_len"], ec["loss_tokens"])
        res[f"{split}_loss"] = train_base.eval_loss(model, rows)
        res[f"{split}_loss_tokens"] = int(rows[:, 1:].numel())
        recipe.log(f"eval {split} loss {res[f'{split}_loss']:.4f} over {res[f'{split}_loss_tokens']} tokens")
    test_docs = recipe.docs("test")
    cases = fim_cases(test_docs, ec["fim_cases"], ec["seed"], enc, ec["fim_prefix_tokens"], ec["fim_suffix_tokens"])
    fim_order = recipe.cfg["base"].get("fim_order", "psm")
    res["fim"] = run_fim(model, enc, cases, ec["fim_max_new"], recipe.log, fim_order)
    recipe.log(f"eval fim: {res['fim']}")
    # up to 5 good examples (exact first, then right first line) and the rest wrong ones
    good = ([c for c in cases if c["exact"]] + [c for c in cases if c["first_line"] and not c["exact"]])[:5]
    bad = [c for c in cases if not c["exact"] and not c["first_line"]][:10 - len(good)]
    keep = ("package", "path", "prefix_tail", "middle", "generated", "suffix_head", "exact", "first_line")
    res["examples"] = [{k: c[k] for k in keep} for c in good + bad]
    if os.path.exists(recipe.path("drafter", "summary.json")):
        drafter = load_drafter(recipe)
        prompts = drafter_prompts(test_docs, enc, ec["drafter_prompts"], ec["seed"] + 1, ec["drafter_prompt_len"],
                                  fim_order)
        res["drafter"] = run_drafter_grid(model, drafter, prompts, ec["beam_widths"], ec["beam_lengths"],
                                          ec["drafter_max_new"], enc.special["<|endoftext|>"], recipe.log)
        res["drafter_setup"] = {"prompts": len(prompts), "prompt_len": ec["drafter_prompt_len"],
                                "max_new": ec["drafter_max_new"], "split": "test"}
    res["eval_time_s"] = time.time() - t
    json.dump(res, open(res_path, "w"), indent=1)
