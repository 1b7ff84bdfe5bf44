# The ReDrafter head in Apple's checkpoint layout (docs/redrafter.md §1.3-1.7): an RNN over the
# base model's token embeddings (rnn_w, rnn_u), the context vector c (the base's post-norm hidden
# state) concatenated with the state, an optional input_proj (2H -> E, present iff E != 2H),
# num_draft_layers SiLU residual blocks and the drafter's own LM head. Also the teacher-forced
# lookahead forward used in training (§3.1).
import torch
import torch.nn as nn
import torch.nn.functional as F

LOG_0 = -50000.0


class ResBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim, bias=True)
        nn.init.zeros_(self.linear.weight)  # starts as identity, as in Medusa/ReDrafter

    def forward(self, x):
        return x + F.silu(self.linear(x))


class Drafter(nn.Module):
    def __init__(self, vocab_size, hidden_size, exit_dim, num_draft_layers, rnn=True):
        super().__init__()
        self.vocab_size, self.hidden_size, self.exit_dim = vocab_size, hidden_size, exit_dim
        self.num_draft_layers, self.rnn = num_draft_layers, rnn
        if not rnn:
            raise ValueError("only the rnn variant is trained here")
        H, E = hidden_size, exit_dim
        self.rnn_w = nn.Linear(H, H, bias=False)
        self.rnn_u = nn.Linear(H, H, bias=True)
        if E != 2 * H:
            self.input_proj = nn.Linear(2 * H, E, bias=True)
        self.lm_head = nn.ModuleList([ResBlock(E) for _ in range(num_draft_layers)] +
                                     [nn.Linear(E, vocab_size, bias=False)])

    def config(self):
        return {"architectures": ["Drafter"], "model_type": "recurrent_drafting_drafter",
                "vocab_size": self.vocab_size, "hidden_size": self.hidden_size, "exit_dim": self.exit_dim,
                "num_draft_layers": self.num_draft_layers, "rnn": self.rnn, "num_lookback_tokens": -1,
                "torch_dtype": "float32", "transformers_version": "4.46.0"}

    @classmethod
    def from_config(cls, c):
        return cls(c["vocab_size"], c["hidden_size"], c["exit_dim"], c["num_draft_layers"], c["rnn"])

    def step_state(self, state, emb):
        """§1.3: s_t = SiLU(W·emb(x_{t-1}) + U·s_{t-1} + b_U). state, emb: (..., H)."""
        return F.silu(self.rnn_w(emb) + self.rnn_u(state))

    def head(self, context, state):
        """§1.4: logits (..., V) from concat(c, s)."""
        z = torch.cat([context, state], dim=-1)  # (..., 2H)
        if hasattr(self, "input_proj"):
            z = self.input_proj(z)               # (..., E)
        for blk in self.lm_head[:-1]:
            z = blk(z)
        return self.lm_head[-1](z)

    def lookahead_logits(self, hidden, emb, k):
        """Teacher-forced training forward (§3.1). hidden: (B, T, H) base post-norm states;
        emb: (B, T, H) base input embeddings of the same tokens. Returns a list of k tensors,
        logits_i: (B, T-i-1, V) where logits_i[:, t] predicts token t+i+2 from h_t and the
        embeddings of tokens t+1..t+i+1."""
        B, T, H = hidden.shape
        state = torch.zeros(B, T - 1, H, device=hidden.device, dtype=hidden.dtype)
        out = []
        for i in range(k):
            n = T - i - 1
            state = self.step_state(state[:, :n], emb[:, i + 1:i + 1 + n])  # (B, n, H)
            out.append(self.head(hidden[:, :n], state))
        return out


def lookahead_loss(logits_list, ids, loss_mask):
    """Sum over lookaheads of CE (§3.1). ids: (B, T); loss_mask: (B, T) bool over TARGET positions.
    logits_list[i]: (B, T-i-1, V) predicts ids[:, i+2 : ...] (the last row has no target)."""
    total = 0.0
    accs = []
    for i, lg in enumerate(logits_list):
        n = ids.shape[1] - i - 2
        if n <= 0:
            break
        tgt = ids[:, i + 2:i + 2 + n]
        m = loss_mask[:, i + 2:i + 2 + n]
        lg = lg[:, :n]
        ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt.reshape(-1), reduction="none").view_as(tgt)
        denom = m.sum().clamp(min=1)
        total = total + (ce * m).sum() / denom
        accs.append(((lg.argmax(-1) == tgt) & m).sum().item() / denom.item())
    return total, accs


def train_step(drafter, opt, hidden, emb, ids, loss_mask, lookahead):
    """One optimiser step on the lookahead loss (gradient norm clipped to 1, as Apple's recipe).
    hidden: (B, T, H) base hidden states; emb: (B, T, H) base embeddings of ids: (B, T).
    Returns (loss tensor, per-lookahead accuracies)."""
    logits = drafter.lookahead_logits(hidden, emb, lookahead)
    loss, accs = lookahead_loss(logits, ids, loss_mask)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(drafter.parameters(), 1.0)
    opt.step()
    return loss, accs


def postprocess_logits(logits, top_k=50):
    """§1.5: subtract the row max, mask below the top-k to LOG_0, log_softmax. (..., V)."""
    logits = logits - logits.max(dim=-1, keepdim=True).values
    kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
    logits = torch.where(logits < kth, torch.full_like(logits, LOG_0), logits)
    return F.log_softmax(logits, dim=-1)
