# The drafter checkpoint follows Apple's layout (docs/redrafter.md §1.7): tensor names and
# shapes, input_proj exactly when exit_dim != 2 * hidden_size, config fields; and safetensors
# written by hand read back bit-exactly (f32 and bf16).
import json
import os

import pytest
import torch

from slipstream_train import export, safetensors_io
from slipstream_train.drafter import Drafter


def expected_shapes(V, H, E, N):
    s = {"rnn_w.weight": (H, H), "rnn_u.weight": (H, H), "rnn_u.bias": (H,), f"lm_head.{N}.weight": (V, E)}
    for i in range(N):
        s[f"lm_head.{i}.linear.weight"] = (E, E)
        s[f"lm_head.{i}.linear.bias"] = (E,)
    if E != 2 * H:
        s["input_proj.weight"] = (E, 2 * H)
        s["input_proj.bias"] = (E,)
    return s


@pytest.mark.parametrize("E,N", [(16, 1), (32, 2), (8, 0)])
def test_state_dict_names_and_shapes_follow_apples_layout(E, N):
    d = Drafter(50, 16, E, N)
    got = {k: tuple(v.shape) for k, v in d.state_dict().items()}
    assert got == expected_shapes(50, 16, E, N)


def test_the_exported_drafter_folder_has_the_apple_layout(smoke):
    _, drafter_dir = export.out_dirs(smoke)
    cfg = json.load(open(os.path.join(drafter_dir, "config.json")))
    assert cfg["model_type"] == "recurrent_drafting_drafter" and cfg["rnn"] is True
    base_cfg = json.load(open(os.path.join(export.out_dirs(smoke)[0], "config.json")))
    assert cfg["hidden_size"] == base_cfg["hidden_size"] and cfg["vocab_size"] == base_cfg["vocab_size"]
    tensors, _ = safetensors_io.load(os.path.join(drafter_dir, "model.safetensors"))
    want = expected_shapes(cfg["vocab_size"], cfg["hidden_size"], cfg["exit_dim"], cfg["num_draft_layers"])
    assert {k: tuple(v.shape) for k, v in tensors.items()} == want


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_safetensors_round_trip_is_exact(tmp_path, dtype):
    t = {"a.weight": torch.randn(3, 5).to(dtype), "b": torch.arange(7, dtype=torch.int64),
         "c.bias": torch.randn(4).to(dtype)}
    p = str(tmp_path / "x.safetensors")
    safetensors_io.save(t, p, {"format": "pt"})
    back, meta = safetensors_io.load(p)
    assert meta == {"format": "pt"}
    for k in t:
        assert back[k].dtype == t[k].dtype and torch.equal(back[k], t[k])
    raw = open(p, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    assert n % 8 == 0 and json.loads(raw[8:8 + n])["a.weight"]["dtype"] in ("F32", "BF16", "F16")
