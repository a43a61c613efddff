"""Writes the policy benchmark's model: a random Llama (hidden 512, 8 layers, 8/4 heads, vocab 32000,
float32, tied embeddings) saved with transformers' save_pretrained, plus a word-level tokenizer.json
(t0..t31999) that the Java side needs to load the directory. Never committed: it goes to /tmp.

Usage: python3 make_model.py DIR
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(1)
cfg = LlamaConfig(vocab_size=32000, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                  num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=4096,
                  tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                  rms_norm_eps=1e-6, rope_theta=10000.0)
model = LlamaForCausalLM(cfg).to(torch.float32)
model.save_pretrained(out, safe_serialization=True)
vocab = {f"t{i}": i for i in range(cfg.vocab_size)}
tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
       "pre_tokenizer": None, "post_processor": None, "decoder": None,
       "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "t0"}}
with open(os.path.join(out, "tokenizer.json"), "w") as f:
    json.dump(tok, f)
print(f"{out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
