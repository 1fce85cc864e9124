"""Small real models the pictures, tests and benchmarks share: built with ``torch.nn`` only,
nothing downloaded."""

from __future__ import annotations

from torch import nn


class LlamaBlock(nn.Module):
    """One decoder layer with Llama's parameter shapes."""

    def __init__(self, d: int, ff: int) -> None:
        super().__init__()
        self.input_layernorm = nn.RMSNorm(d)
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.post_attention_layernorm = nn.RMSNorm(d)
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)


class Llama(nn.Module):
    """Llama-7B's shapes (32 layers, width 4096): built on meta, it costs no memory."""

    def __init__(self, vocab: int = 32000, d: int = 4096, ff: int = 11008) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaBlock(d, ff) for _ in range(32))
        self.norm = nn.RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
