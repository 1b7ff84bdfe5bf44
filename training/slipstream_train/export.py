# Export step: writes the base model and the drafter as Hugging Face folders (config.json,
# model.safetensors written by safetensors_io, tokenizer files, generation_config.json) plus a
# model card (README.md) filled from the run's summaries and evaluation results.
import json
import os
import shutil

import torch

from . import safetensors_io
from .train_drafter import load_drafter

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def out_dirs(recipe):
    ex = recipe.cfg["export"]
    m = ex.get("model_dir") or recipe.path("export", "slipstream-code")
    d = ex.get("drafter_dir") or recipe.path("export", "slipstream-code-drafter")
    return (m if os.path.isabs(m) else os.path.join(REPO, m), d if os.path.isabs(d) else os.path.join(REPO, d))


def _load_json(path, default=None):
    return json.load(open(path)) if os.path.exists(path) else default


def run(recipe):
    ex = recipe.cfg["export"]
    dtype = DTYPES[ex.get("dtype", "float32")]
    model_dir, drafter_dir = out_dirs(recipe)
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(drafter_dir, exist_ok=True)
    model = recipe.base_model()
    enc = recipe.encoder()
    cfg = model.cfg.hf_config()
    cfg["torch_dtype"] = ex.get("dtype", "float32")
    json.dump(cfg, open(os.path.join(model_dir, "config.json"), "w"), indent=1)
    eot = enc.special["<|endoftext|>"]
    json.dump({"bos_token_id": eot, "eos_token_id": eot, "pad_token_id": enc.special["<|fim_pad|>"],
               "do_sample": False, "max_new_tokens": 64, "transformers_version": "4.46.0"},
              open(os.path.join(model_dir, "generation_config.json"), "w"), indent=1)
    sd = {k: v.to(dtype) for k, v in model.export_state_dict().items()}
    safetensors_io.save(sd, os.path.join(model_dir, "model.safetensors"), {"format": "pt"})
    shutil.copyfile(recipe.path("tokenizer", "tokenizer.json"), os.path.join(model_dir, "tokenizer.json"))
    # fim_order tells a server which fill-in-the-middle order the model was trained in
    # (data.fim_prompt); Slipstream's prompt builder reads it, other tools ignore the extra key.
    tok_cfg = json.load(open(recipe.path("tokenizer", "tokenizer_config.json")))
    tok_cfg["fim_order"] = recipe.cfg["base"].get("fim_order", "psm")
    json.dump(tok_cfg, open(os.path.join(model_dir, "tokenizer_config.json"), "w"), indent=1)
    drafter = load_drafter(recipe)
    write_drafter_folder(drafter, drafter_dir, ex.get("dtype", "float32"))
    info = gather(recipe)
    open(os.path.join(model_dir, "README.md"), "w").write(base_card(recipe, cfg, info))
    open(os.path.join(drafter_dir, "README.md"), "w").write(drafter_card(recipe, drafter.config(), info))
    recipe.log(f"export: {model_dir} and {drafter_dir}")


def write_drafter_folder(drafter, drafter_dir, dtype_name="float32"):
    """The layout the engine loads (Apple's train.py save_pretrained, docs/redrafter.md §1.7):
    config.json + model.safetensors in dtype_name (float32 | bfloat16)."""
    os.makedirs(drafter_dir, exist_ok=True)
    json.dump(dict(drafter.config(), torch_dtype=dtype_name), open(os.path.join(drafter_dir, "config.json"), "w"), indent=1)
    dsd = {k: v.detach().cpu().to(DTYPES[dtype_name]).contiguous() for k, v in drafter.state_dict().items()}
    safetensors_io.save(dsd, os.path.join(drafter_dir, "model.safetensors"), {"format": "pt"})


def gather(recipe):
    stats = _load_json(os.path.join(recipe.corpus_dir(), "corpus", "stats.json"), {})
    return {"stats": stats, "base": _load_json(recipe.path("base", "summary.json"), {}),
            "drafter": _load_json(recipe.path("drafter", "summary.json"), {}),
            "eval": _load_json(recipe.path("eval", "results.json"), {})}


def _fmt_time(s):
    return f"{s / 60:.1f} min" if s else "n/a"


def corpus_section(recipe, info):
    st = info["stats"]
    lines = ["| split | files | bytes | packages |", "| --- | --- | --- | --- |"]
    for split in ("train", "validation", "test"):
        if split in st:
            lines.append(f"| {split} | {st[split]['files']} | {st[split]['bytes']:,} | {len(st[split]['packages'])} |")
    src = recipe.cfg["corpus"]["source"]
    man = os.path.join(REPO, "training", "corpus", "manifest.json") if src == "npm" else \
        os.path.join(REPO, src, "manifest.json")
    pk = _load_json(man, {"packages": []})["packages"]
    lic = {}
    for e in pk:
        lic.setdefault(e["license"], []).append(f"{e['name']}@{e['version']}")
    lic_lines = [f"* **{k}**: {', '.join(v)}" for k, v in sorted(lic.items())]
    return "\n".join(lines) + "\n\nPackages by licence (versions and sha512 integrity pinned in " \
        "`training/corpus/manifest.json`; split by package, so no test package was seen in training):\n\n" + \
        "\n".join(lic_lines) + "\n"


def eval_section(info):
    ev = info["eval"]
    if not ev:
        return "Not evaluated.\n"
    out = [f"* validation loss: **{ev['validation_loss']:.3f}** nats/token ({ev['validation_loss_tokens']} tokens), "
           f"test loss: **{ev['test_loss']:.3f}** nats/token ({ev['test_loss_tokens']} tokens); plain left-to-right, "
           "held-out packages.",
           f"* FIM on held-out test files, cursor at random positions, middle = rest of the line (or of the next "
           f"one or two lines), greedy: exact match **{ev['fim']['exact_match'] * 100:.1f}%**, first line correct "
           f"**{ev['fim']['first_line_correct'] * 100:.1f}%** ({ev['fim']['cases']} cases)."]
    return "\n".join(out) + "\n"


def drafter_table(info):
    ev = info["eval"]
    if not ev.get("drafter"):
        return "Not evaluated.\n"
    widths = sorted({r["beam_width"] for r in ev["drafter"]})
    lengths = sorted({r["beam_length"] for r in ev["drafter"]})
    by = {(r["beam_width"], r["beam_length"]): r for r in ev["drafter"]}
    s = ev["drafter_setup"]
    lines = [f"Greedy, {s['prompts']} held-out prompts from the test split (half FIM, half plain; "
             f"{s['prompt_len']} prompt tokens), up to {s['max_new']} new tokens each. Tokens per step = tokens "
             "committed per base forward (accepted drafted tokens + the guaranteed token). Every output was "
             "checked to equal plain greedy decoding.", "",
             "| beam width \\ beam length L (drafted = L-1) | " + " | ".join(f"L={L} ({L - 1})" for L in lengths) + " |",
             "| --- | " + " | ".join("---" for _ in lengths) + " |"]
    for M in widths:
        lines.append(f"| M={M} | " + " | ".join(f"{by[(M, L)]['tokens_per_step']:.2f}" for L in lengths) + " |")
    mism = sum(r["outputs_differing_from_plain_greedy"] for r in ev["drafter"])
    lines.append("")
    lines.append(f"Outputs differing from plain greedy: {mism}.")
    return "\n".join(lines) + "\n"


def examples_section(info):
    ev = info["eval"]
    out = []
    for i, e in enumerate(ev.get("examples", []), 1):
        verdict = "exact" if e["exact"] else ("first line right" if e["first_line"] else "wrong")
        out.append(f"**{i}. {e['package']} `{e['path']}`: {verdict}**\n\n"
                   f"prefix (last lines):\n```ts\n{e['prefix_tail']}\n```\n"
                   f"expected middle: `{json.dumps(e['middle'])}`  \n"
                   f"generated: `{json.dumps(e['generated'])}`\n")
    return "\n".join(out) if out else "No examples (not evaluated).\n"


FIM_FORMATS = {
    "psm": "`<|fim_prefix|>` prefix `<|fim_suffix|>` suffix `<|fim_middle|>`",
    "spm": "`<|fim_prefix|><|fim_suffix|>` suffix `<|fim_middle|>` prefix (the middle continues the prefix)",
}


def base_card(recipe, cfg, info):
    b = info["base"]
    bc = recipe.cfg["base"]
    phases = ", ".join(f"{p['steps']} steps at {p['batch_size']}x{p['seq_len']} tokens" for p in bc["phases"])
    fim_order = bc.get("fim_order", "psm")
    hist = "\n".join(f"| {h['step']} | {h['tokens']:,} | {h['train_loss_ema']:.3f} | {h['val_loss']:.3f} |"
                     for h in b.get("history", []))
    return f"""# slipstream-code ({recipe.cfg['name']} recipe)

A small Llama-architecture code model for TypeScript/JavaScript completion with fill-in-the-middle,
trained from scratch on this project's CPU machine by `training/` (Slipstream). It is the default
model Slipstream ships so that completions work with no download; it is **small and weak**: use it
to exercise the engine and the ReDrafter path, and point Slipstream at a real code model for
useful completions. Drafter: `../slipstream-code-drafter`.

## Configuration
* Llama: hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, {cfg['num_attention_heads']} heads
  ({cfg['num_key_value_heads']} KV heads, head dim {cfg['head_dim']}), SwiGLU {cfg['intermediate_size']},
  RMSNorm eps {cfg['rms_norm_eps']}, RoPE theta {cfg['rope_theta']} without scaling,
  max_position_embeddings {cfg['max_position_embeddings']}, tied embeddings, vocab {cfg['vocab_size']};
  {b.get('params', 0):,} parameters; {recipe.cfg['export'].get('dtype', 'float32')} weights.
* Tokenizer: byte-level BPE (GPT-2 pre-tokenizer regex) trained on
  {recipe.cfg['tokenizer']['sample_bytes']:,} bytes of the training split; specials `<|endoftext|>` (eos),
  `<|fim_prefix|>`, `<|fim_middle|>`, `<|fim_suffix|>`, `<|fim_pad|>`, `<|file_sep|>`. No BOS token.
* Prompt format ({fim_order.upper()}, `fim_order` in `tokenizer_config.json`): {FIM_FORMATS[fim_order]}; the model
  writes the middle and ends it with `<|endoftext|>`. Plain left-to-right text works too.

## Training
* Objective: next-token cross-entropy; {int(bc['fim_rate'] * 100)}% of samples are FIM ({fim_order.upper()}; cursor
  uniform over characters; the middle ends uniformly over the rest of the segment, or for
  {int(bc.get('fim_line_rate', 0) * 100)}% of FIM samples at the end of the cursor's line or one or two lines later), the rest left-to-right; each sample ends with `<|endoftext|>`; samples are
  packed into full rows.
* Phases: {phases} (the long-context phase trains every position up to {cfg['max_position_embeddings']}).
  AdamW (0.9, 0.95), lr {bc['lr']} with {bc['warmup']} warmup steps and cosine decay to
  {bc['min_lr_ratio']}x, weight decay {bc['weight_decay']}, grad clip {bc.get('grad_clip', 1.0)}.
* Tokens seen: {b.get('tokens', 0):,}; training time {_fmt_time(b.get('train_time_s'))} on the 2-core
  CPU machine (shared with other jobs while this run trained, niced).
{recipe.cfg.get('notes', '')}

| step | tokens | train loss (EMA) | validation loss |
| --- | --- | --- | --- |
{hist}

## Data and licences
{corpus_section(recipe, info)}
## Evaluation
{eval_section(info)}
### Ten held-out examples (FIM, greedy; good and bad)
{examples_section(info)}
## How to rerun
```
training/setup.sh
training/run.sh --config training/configs/{recipe.cfg['name']}.json
```
See `training/README.md` and `docs/training.md`. An interrupted run resumes where it stopped.
"""


def row_cost_ratio(dcfg, info):
    H, E, V, N = dcfg["hidden_size"], dcfg["exit_dim"], dcfg["vocab_size"], dcfg["num_draft_layers"]
    row = 2 * H * H + (2 * H * E if E != 2 * H else 0) + N * E * E + E * V
    base_params = info["base"].get("params", 1)
    return row / base_params  # a base token costs ~ one multiply-add per parameter (tied head counted once)


def drafter_card(recipe, dcfg, info):
    d = info["drafter"]
    dc = recipe.cfg["drafter"]
    return f"""# slipstream-code-drafter ({recipe.cfg['name']} recipe)

A ReDrafter head (Apple's recurrent drafter, `docs/redrafter.md`) for `../slipstream-code`, in the
checkpoint layout of Apple's `train.py` (§1.7): `rnn_w.weight`, `rnn_u.weight/bias`,
`input_proj.weight/bias` (exit_dim != 2 x hidden), `lm_head.0.linear.weight/bias`,
`lm_head.{dcfg['num_draft_layers']}.weight`. It reads the base model's input embeddings and its final
post-norm hidden state; it has no embedding table of its own.

## Configuration
* hidden_size {dcfg['hidden_size']}, exit_dim {dcfg['exit_dim']}, num_draft_layers {dcfg['num_draft_layers']},
  rnn true, vocab {dcfg['vocab_size']}; {d.get('params', 0):,} parameters; {recipe.cfg['export'].get('dtype', 'float32')}. One drafter row (one beam,
  one step) costs {row_cost_ratio(dcfg, info):.2f}x the multiply-adds of one base token, so drafting stays
  cheap next to verification.
* Lookahead {dc['lookahead']} (trained for beam lengths up to 6 tokens incl. the guaranteed one; use L <= 6).

## Training (distillation on the base model's own outputs, §3.1-3.2)
* {d.get('sequences', 0)} prompts cut from the training split ({int(dc['fim_rate'] * 100)}% FIM prompts ending
  in `<|fim_middle|>`, the rest plain, {dc['prompt_min']}-{dc['prompt_max']} tokens), continued greedily by the
  frozen base for up to {dc['gen_len']} tokens: {d.get('gen_tokens', 0):,} generated tokens
  ({_fmt_time(d.get('gen_time_s'))}).
* Loss: sum over the {dc['lookahead']} lookaheads of cross-entropy on the generated tokens (teacher forcing
  with the base's hidden states and embeddings); AdamW lr {dc['lr']}, {dc['epochs']} epochs, batch
  {dc['batch_size']}, {d.get('steps', 0)} steps, {_fmt_time(d.get('train_time_s'))}.

## Evaluation: accepted tokens per step
{drafter_table(info)}
## How to rerun
`training/run.sh --config training/configs/{recipe.cfg['name']}.json --steps drafter,eval,export`
(after the base step). See `training/README.md`.
"""
