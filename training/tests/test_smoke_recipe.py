# The whole recipe at tiny sizes: corpus subset -> tokenizer -> base -> drafter -> eval -> export,
# and the exported folders have the files and fields the engine and HF transformers read.
import json
import os

from slipstream_train import export, safetensors_io


def test_every_step_produces_its_output(smoke):
    stats = json.load(open(os.path.join(smoke.corpus_dir(), "corpus", "stats.json")))
    assert all(stats[s]["files"] > 0 for s in ("train", "validation", "test"))
    assert os.path.exists(smoke.path("tokenizer", "tokenizer.json"))
    base = json.load(open(smoke.path("base", "summary.json")))
    assert base["steps"] == base["total_steps"] and base["tokens"] > 0
    assert base["history"][-1]["val_loss"] < base["history"][0]["val_loss"] + 0.5
    dr = json.load(open(smoke.path("drafter", "summary.json")))
    assert dr["gen_tokens"] > 0 and dr["steps"] > 0
    ev = json.load(open(smoke.path("eval", "results.json")))
    assert ev["validation_loss"] > 0 and ev["test_loss"] > 0
    assert ev["fim"]["cases"] > 0 and 0 <= ev["fim"]["exact_match"] <= 1
    assert {(r["beam_width"], r["beam_length"]) for r in ev["drafter"]} == {(1, 3), (1, 5), (2, 3), (2, 5)}
    # greedy ReDrafter must reproduce plain greedy decoding exactly
    assert all(r["outputs_differing_from_plain_greedy"] == 0 for r in ev["drafter"])
    assert all(r["tokens_per_step"] >= 1.0 for r in ev["drafter"])


def test_the_split_is_by_package(smoke):
    pk = {s: {d["package"] for d in smoke.docs(s)} for s in ("train", "validation", "test")}
    assert not pk["train"] & pk["test"] and not pk["train"] & pk["validation"] and not pk["validation"] & pk["test"]


def test_the_exported_model_folder_is_a_hugging_face_llama_folder(smoke):
    model_dir, drafter_dir = export.out_dirs(smoke)
    for f in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
              "tokenizer_config.json", "README.md"):
        assert os.path.exists(os.path.join(model_dir, f)), f
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    assert cfg["model_type"] == "llama" and cfg["architectures"] == ["LlamaForCausalLM"]
    assert cfg["max_position_embeddings"] == 256
    tc = json.load(open(os.path.join(model_dir, "tokenizer_config.json")))
    assert tc["add_bos_token"] is False and tc["eos_token"] == "<|endoftext|>"
    tensors, _ = safetensors_io.load(os.path.join(model_dir, "model.safetensors"))
    H, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    assert tensors["model.embed_tokens.weight"].shape == (cfg["vocab_size"], H)
    assert "lm_head.weight" not in tensors  # tied
    assert tensors[f"model.layers.{L - 1}.self_attn.k_proj.weight"].shape == \
        (cfg["num_key_value_heads"] * cfg["head_dim"], H)
    card = open(os.path.join(model_dir, "README.md")).read()
    assert "How to rerun" in card and "validation loss" in card
    assert os.path.exists(os.path.join(drafter_dir, "README.md"))
