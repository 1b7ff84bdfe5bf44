# Greedy ReDrafter decoding simulated in PyTorch (the reference the engine is compared against):
# drafter beam search (docs/redrafter.md §2.3), prefix-deduplicated tree packing and tree mask
# (§2.4), one base forward over the packed tree (§2.5), exact greedy acceptance (§2.6), KV
# compaction of the accepted path (§2.9). Also plain greedy decoding with a KV cache.
import torch

from .drafter import LOG_0, postprocess_logits


@torch.no_grad()
def beam_search(drafter, embed, context, g0, beam_width, beam_length):
    """context: (H,) base post-norm hidden state; g0: guaranteed token. Returns beams (M, L) int64
    with column 0 == g0."""
    M, C = beam_width, beam_length - 1
    H = context.shape[0]
    beams = torch.full((M, 1), int(g0), dtype=torch.int64)
    score = torch.full((M,), LOG_0)
    score[0] = 0.0
    state = torch.zeros(M, H)
    V = drafter.vocab_size
    for _ in range(C):
        state = drafter.step_state(state, embed(beams[:, -1]))          # (M, H)
        lq = postprocess_logits(drafter.head(context.expand(M, H), state))  # (M, V)
        cand = (score[:, None] + lq).reshape(-1)                        # (M*V,)
        top = torch.topk(cand, M)
        parent = torch.div(top.indices, V, rounding_mode="floor")
        tok = top.indices % V
        beams = torch.cat([beams[parent], tok[:, None]], dim=1)
        state = state[parent]
        score = top.values
    return beams


def pack_tree(beams):
    """§2.4: (packed tokens (n,), unpacker up (M, L), depth (n,), tree mask (n, n) bool)."""
    M, L = beams.shape
    b = beams.tolist()
    up = [[0] * L for _ in range(M)]
    packed, depth, parent_of = [], [], []
    index = {}  # prefix tuple -> packed index
    for m in range(M):
        for j in range(L):
            key = tuple(b[m][:j + 1])
            if key not in index:
                index[key] = len(packed)
                packed.append(b[m][j])
                depth.append(j)
                parent_of.append(index[tuple(b[m][:j])] if j > 0 else -1)
            up[m][j] = index[key]
    n = len(packed)
    mask = torch.zeros(n, n, dtype=torch.bool)
    for i in range(n):
        k = i
        while k >= 0:
            mask[i, k] = True
            k = parent_of[k]
    return (torch.tensor(packed, dtype=torch.int64), torch.tensor(up, dtype=torch.int64),
            torch.tensor(depth, dtype=torch.int64), mask)


@torch.no_grad()
def prefill(model, prompt):
    h, logits, past = model(torch.tensor([prompt], dtype=torch.int64))
    return h[0, -1], logits[0, -1], past


@torch.no_grad()
def greedy_plain(model, prompt, max_new, eos=None):
    """Plain greedy decoding with a KV cache. Returns the generated tokens (eos included)."""
    h, logits, past = prefill(model, prompt)
    out = []
    for _ in range(max_new):
        t = int(logits.argmax())
        out.append(t)
        if t == eos or len(prompt) + len(out) >= model.cfg.max_position_embeddings:
            break
        _, lg, past = model(torch.tensor([[t]]), past=past)
        logits = lg[0, -1]
    return out


@torch.no_grad()
def greedy_redrafter(model, drafter, prompt, max_new, beam_width, beam_length, eos=None):
    """Greedy ReDrafter decoding. Returns (generated tokens, list of tokens committed per base
    forward, each = accepted drafted tokens n + 1 guaranteed token)."""
    embed = model.model.embed_tokens
    c, logits, past = prefill(model, prompt)
    g0 = int(logits.argmax())
    n_ctx = len(prompt)
    out, per_step = [], []
    while len(out) < max_new:
        if g0 == eos or n_ctx + beam_length > model.cfg.max_position_embeddings:
            out.append(g0)  # guaranteed token; no further base forward needed to emit it
            break
        beams = beam_search(drafter, embed, c, g0, beam_width, beam_length)    # (M, L)
        packed, up, depth, tmask = pack_tree(beams)
        n_tree = packed.shape[0]
        mask = torch.cat([torch.ones(n_tree, n_ctx, dtype=torch.bool), tmask], dim=1)  # (n_tree, n_ctx+n_tree)
        hid, lg, new_past = model(packed[None], positions=n_ctx + depth, past=past, mask=mask)
        hid_b, arg_b = hid[0][up], lg[0].argmax(-1)[up]                       # (M, L, H), (M, L)
        ok = (beams[:, 1:] == arg_b[:, :-1]).to(torch.int64)                  # (M, C)
        acc = ok.cumprod(dim=1).sum(dim=1)                                    # (M,)
        m = int(acc.argmax())
        n = int(acc[m])
        committed = beams[m, :n + 1].tolist()                                 # g0 + n accepted drafts
        per_step.append(n + 1)
        if eos is not None and eos in committed:
            out.extend(committed[:committed.index(eos) + 1])
            break
        out.extend(committed)
        path = up[m, :n + 1]                                                  # §2.9 compaction
        past = [(torch.cat([k[:, :, :n_ctx], k[:, :, n_ctx:][:, :, path]], dim=2),
                 torch.cat([v[:, :, :n_ctx], v[:, :, n_ctx:][:, :, path]], dim=2)) for k, v in new_past]
        n_ctx += n + 1
        c = hid_b[m, n]
        g0 = int(arg_b[m, n])
    return out[:max_new], per_step
