# The PyTorch ReDrafter reference: tree packing reproduces Apple's test vectors (§2.4), the KV
# cache forward equals the full forward, and greedy ReDrafter equals plain greedy decoding.
import torch

from slipstream_train import speculative
from slipstream_train.train_drafter import load_drafter


def test_tree_packing_matches_apples_test_vectors():
    packed, up, depth, mask = speculative.pack_tree(torch.tensor([[91, 92, 93, 95], [91, 92, 94, 96], [91, 92, 93, 97]]))
    assert packed.tolist() == [91, 92, 93, 95, 94, 96, 97]
    assert up.tolist() == [[0, 1, 2, 3], [0, 1, 4, 5], [0, 1, 2, 6]]
    assert depth.tolist() == [0, 1, 2, 3, 2, 3, 3]
    rows = ["1000000", "1100000", "1110000", "1111000", "1100100", "1100110", "1110001"]
    assert ["".join(str(int(x)) for x in r) for r in mask.tolist()] == rows
    packed, up, depth, _ = speculative.pack_tree(torch.tensor([[93, 94, 95, 92], [93, 95, 96, 93], [93, 94, 97, 96]]))
    assert packed.tolist() == [93, 94, 95, 92, 95, 96, 93, 97, 96]
    assert up.tolist() == [[0, 1, 2, 3], [0, 4, 5, 6], [0, 1, 7, 8]]
    assert depth.tolist() == [0, 1, 2, 3, 1, 2, 3, 2, 3]


def test_cached_decoding_equals_the_full_forward(smoke):
    m = smoke.base_model()
    ids = torch.randint(0, m.cfg.vocab_size, (1, 40))
    _, full, _ = m(ids)
    _, a, past = m(ids[:, :25])
    _, b, _ = m(ids[:, 25:], past=past)
    assert torch.allclose(torch.cat([a, b], 1), full, atol=1e-5)


def test_greedy_redrafter_equals_plain_greedy(smoke):
    m = smoke.base_model()
    d = load_drafter(smoke)
    enc = smoke.encoder()
    eos = enc.special["<|endoftext|>"]
    for text in ["import { Result } from './result';\nexport const ok = ", "function f(a, b) {\n  return "]:
        p = enc.encode(text)
        ref = speculative.greedy_plain(m, p, 30, eos=eos)
        for M, L in [(1, 2), (2, 4), (4, 5), (3, 6)]:
            out, per_step = speculative.greedy_redrafter(m, d, p, 30, M, L, eos=eos)
            assert out == ref, (M, L)
            assert all(1 <= s <= L for s in per_step)


def test_batched_generation_records_the_same_hidden_states_as_a_full_forward(smoke):
    from slipstream_train.train_drafter import generate_batch
    m = smoke.base_model()
    enc = smoke.encoder()
    prompts = [enc.encode("export function f(a) {\n  return "), enc.encode("const x = 1;\nconst y = x + ")]
    seqs, plens, hs = generate_batch(m, prompts, 12, eos=enc.special["<|endoftext|>"])
    for b, (s, p) in enumerate(zip(seqs, plens)):
        assert s[:p] == prompts[b]
        assert s[p:] == speculative.greedy_plain(m, prompts[b], 12, eos=enc.special["<|endoftext|>"])
        h, _, _ = m(torch.tensor([s]))
        n = len(s) - p  # generated tokens; hs[b, :n] covers positions p-1 .. len-2
        assert torch.allclose(hs[b, :n], h[0, p - 1:len(s) - 1], atol=1e-4)
