# Checkpoint and resume: a base (and drafter) run interrupted part-way and restarted ends with
# exactly the weights of an uninterrupted run, because batches are a pure function of the step.
import torch

from conftest import smoke_config
from slipstream_train.run import Recipe


def short_config(name):
    cfg = smoke_config(name=name)
    cfg["base"]["phases"] = [{"seq_len": 32, "batch_size": 4, "steps": 12}, {"seq_len": 64, "batch_size": 2, "steps": 4}]
    cfg["base"]["checkpoint_every"] = 5
    cfg["base"]["eval_every"] = 8
    cfg["drafter"].update({"n_sequences": 16, "epochs": 2, "checkpoint_every": 3, "batch_size": 4})
    return cfg


def run_to(recipe, interrupt_base=None, interrupt_drafter=None):
    recipe.step_corpus()
    recipe.step_tokenizer()
    if interrupt_base:
        recipe.step_base(stop_after=interrupt_base)  # the "interrupted" process
        ck = torch.load(recipe.path("base", "ckpt.pt"))
        assert ck["state"]["step"] == interrupt_base
    recipe.step_base()
    if interrupt_drafter:
        recipe.step_drafter(stop_after=interrupt_drafter)
        ck = torch.load(recipe.path("drafter", "ckpt.pt"))
        assert ck["state"]["step"] == interrupt_drafter
    recipe.step_drafter()
    base = torch.load(recipe.path("base", "ckpt.pt"))
    dr = torch.load(recipe.path("drafter", "ckpt.pt"))
    return base, dr


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    a_base, a_dr = run_to(Recipe(short_config("resume-a"), str(tmp_path / "a")))
    b_base, b_dr = run_to(Recipe(short_config("resume-b"), str(tmp_path / "b")), interrupt_base=7, interrupt_drafter=5)
    assert a_base["state"]["step"] == b_base["state"]["step"] == 16
    assert a_base["state"]["tokens"] == b_base["state"]["tokens"]
    for k, v in a_base["model"].items():
        assert torch.equal(v, b_base["model"][k]), k
    for k, v in a_dr["drafter"].items():
        assert torch.equal(v, b_dr["drafter"][k]), k
