# slipstream_train.distill (the training step of `slipstream train-drafter`) on a synthetic data
# folder in the format the engine's recorder writes (index.json, tokens.i32, hidden.f16) and a
# fake base model folder (only the tensors distill reads): embeddings read in F32/BF16/F16 and from
# shards, batch shapes and the window alignment, the loss falling on a tiny batch, an interrupted
# run resuming to bit-identical weights, and the export loading back with the right layout.
import json
import os

import numpy as np
import pytest
import torch

from slipstream_train import distill, safetensors_io
from slipstream_train.drafter import lookahead_loss

V, H = 40, 16


def fake_base(dirname, dtype=torch.float32, tied=True, shards=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(V, H, generator=g)
    tensors = {"model.embed_tokens.weight": emb.to(dtype), "model.norm.weight": torch.ones(H, dtype=dtype)}
    if not tied:
        tensors["lm_head.weight"] = torch.randn(V, H, generator=g).to(dtype)
    os.makedirs(dirname, exist_ok=True)
    if shards:
        names = sorted(tensors)
        a, b = names[:1], names[1:]
        safetensors_io.save({k: tensors[k] for k in a}, os.path.join(dirname, "model-00001-of-00002.safetensors"))
        safetensors_io.save({k: tensors[k] for k in b}, os.path.join(dirname, "model-00002-of-00002.safetensors"))
        wm = {k: "model-00001-of-00002.safetensors" for k in a}
        wm.update({k: "model-00002-of-00002.safetensors" for k in b})
        json.dump({"weight_map": wm}, open(os.path.join(dirname, "model.safetensors.index.json"), "w"))
    else:
        safetensors_io.save(tensors, os.path.join(dirname, "model.safetensors"))
    return {k: v.float() for k, v in tensors.items()}


def fake_data(dirname, n_seqs=24, seed=0):
    """Sequences following a fixed rule (next = (3 * prev + 1) mod V) with hidden states that
    encode the current token, so a drafter can learn every lookahead."""
    rng = np.random.default_rng(seed)
    code = rng.standard_normal((V, H)).astype(np.float32)
    toks, hids, seqs = [], [], []
    to = ho = 0
    for _ in range(n_seqs):
        n = int(rng.integers(6, 20))
        w = [int(rng.integers(0, V))]
        for _ in range(n):
            w.append((3 * w[-1] + 1) % V)
        toks.extend(w)
        hids.append(code[w[:n]])  # row j: the state at column j
        seqs.append([to, ho, n])
        to += n + 1
        ho += n
    os.makedirs(dirname, exist_ok=True)
    np.asarray(toks, dtype="<i4").tofile(os.path.join(dirname, "tokens.i32"))
    np.concatenate(hids).astype("<f2").tofile(os.path.join(dirname, "hidden.f16"))
    json.dump({"format": distill.DATA_FORMAT, "hidden_size": H, "vocab_size": V, "hidden_dtype": "f16",
               "tokens_file": "tokens.i32", "hidden_file": "hidden.f16", "sequences": seqs, "positions": ho},
              open(os.path.join(dirname, "index.json"), "w"))
    return toks, np.concatenate(hids)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("shards", [False, True])
def test_embeddings_are_read_in_every_dtype_and_layout(tmp_path, dtype, shards):
    ref = fake_base(str(tmp_path / "m"), dtype=dtype, tied=False, shards=shards)
    got = distill.read_tensor(str(tmp_path / "m"), distill.EMBED_NAME)
    assert got.dtype == torch.float32 and got.shape == (V, H)
    assert torch.equal(got, ref["model.embed_tokens.weight"])
    assert torch.equal(distill.base_output_matrix(str(tmp_path / "m")), ref["lm_head.weight"])


def test_a_tied_model_uses_its_embeddings_as_the_output_matrix(tmp_path):
    ref = fake_base(str(tmp_path / "m"), tied=True)
    assert torch.equal(distill.base_output_matrix(str(tmp_path / "m")), ref["model.embed_tokens.weight"])


def test_batches_have_the_window_shapes_and_alignment(tmp_path):
    toks, hids = fake_data(str(tmp_path / "d"))
    data = distill.Recorded(str(tmp_path / "d"))
    ids, hid, valid = data.batch([0, 1, 2])
    n = [data.seqs[r][2] for r in (0, 1, 2)]
    W = max(n) + 1
    assert ids.shape == (3, W) and hid.shape == (3, W, H) and valid.shape == (3, W)
    to, ho, n0 = data.seqs[0]
    assert ids[0, :n0 + 1].tolist() == toks[to:to + n0 + 1]
    assert valid[0].sum().item() == n0 + 1
    assert torch.equal(hid[0, :n0], torch.from_numpy(hids[ho:ho + n0].astype(np.float16).astype(np.float32)))
    assert torch.count_nonzero(hid[0, n0:]) == 0  # the last column has no hidden state


def test_the_loss_falls_on_a_tiny_batch(tmp_path):
    fake_data(str(tmp_path / "d"))
    ref = fake_base(str(tmp_path / "m"))
    data = distill.Recorded(str(tmp_path / "d"))
    torch.manual_seed(0)
    d = distill.make_drafter(V, H, H, 1, ref["model.embed_tokens.weight"])
    emb = torch.nn.Embedding.from_pretrained(ref["model.embed_tokens.weight"], freeze=True)
    opt = torch.optim.AdamW(d.parameters(), lr=1e-2)
    ids, hid, valid = data.batch(list(range(8)))
    logits = d.lookahead_logits(hid, emb(ids), 5)
    assert [lg.shape for lg in logits] == [(8, ids.shape[1] - i - 1, V) for i in range(5)]
    losses = []
    for _ in range(60):
        loss, accs = lookahead_loss(d.lookahead_logits(hid, emb(ids), 5), ids, valid)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses
    assert min(accs) > 0.9, accs


def run_cli(tmp_path, name, *extra):
    out = tmp_path / name
    distill.main(["--data", str(tmp_path / "d"), "--model", str(tmp_path / "m"), "--out", str(out), "--work", str(out / "work"),
                  "--budget-minutes", "1000", "--max-steps", "8", "--device", "cpu", "--batch-positions", "64",
                  "--log-seconds", "0", *extra])
    return out


def test_an_interrupted_run_resumes_to_the_same_weights_and_exports(tmp_path):
    fake_data(str(tmp_path / "d"))
    fake_base(str(tmp_path / "m"))
    a = run_cli(tmp_path, "a")
    run_cli(tmp_path, "b", "--stop-after", "3")
    ck = torch.load(str(tmp_path / "b" / "work" / "ckpt.pt"))
    assert ck["state"]["step"] == 3
    b = run_cli(tmp_path, "b")
    sa, _ = safetensors_io.load(str(a / "model.safetensors"))
    sb, _ = safetensors_io.load(str(b / "model.safetensors"))
    assert sorted(sa) == sorted(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    cfg = json.load(open(a / "config.json"))
    assert cfg["model_type"] == "recurrent_drafting_drafter"
    assert (cfg["vocab_size"], cfg["hidden_size"], cfg["exit_dim"], cfg["num_draft_layers"]) == (V, H, 2 * H, 2)
    assert sa["lm_head.2.weight"].shape == (V, 2 * H) and "input_proj.weight" not in sa
    summary = json.load(open(a / "work" / "train-summary.json"))
    assert summary["steps"] == 8


def test_the_default_exit_dim_is_2h_unless_the_output_layer_is_big():
    assert distill.default_exit_dim(512, 64) == 128
    assert distill.default_exit_dim(151936, 896) == 1792  # Qwen2.5 0.5B: 272M parameters
    assert distill.default_exit_dim(151936, 1536) == 1536  # Qwen2.5 1.5B: 2H would be 467M


def test_with_exit_dim_h_the_head_starts_as_the_base_head(tmp_path):
    ref = fake_base(str(tmp_path / "m"), tied=False)
    d = distill.make_drafter(V, H, H, 1, distill.base_output_matrix(str(tmp_path / "m")))
    c = torch.randn(3, H)
    with torch.no_grad():
        got = d.head(c, torch.randn(3, H))
    assert torch.allclose(got, c @ ref["lm_head.weight"].T, atol=1e-5)
