"""Ground truth for the Qwen3, Gemma 3 and sliding-window Mistral forward passes.

Builds tiny random models with transformers from real hub configs (Qwen3-0.6B / Qwen3-8B,
gemma-3-1b-pt, Mistral-7B-v0.1) shrunk to a few hundred KB, saves them as float32 or bfloat16
safetensors, and records what transformers computes on them: logits at every position, summed
response log-probs and 16 greedy tokens (generate, with KV cache). The Java tests compare
against these files; nothing here runs at test time.

    python -m venv /tmp/fixgen && /tmp/fixgen/bin/pip install torch transformers safetensors
    /tmp/fixgen/bin/python src/test/fixtures-gen/architectures.py   # from the repository root

Writes src/test/fixtures/{qwen3-tiny,gemma3-tiny,mistral-sliding-tiny}/: one directory per model
(config.json, model.safetensors, generation_config.json, the hf-tiny tokenizer files) plus
reference.json and reference.safetensors. Deterministic for the seeds below on one torch build.
"""
import json
import shutil
from pathlib import Path

import safetensors.torch
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path("src/test/fixtures")
TOKENIZER = ROOT / "hf-tiny" / "tokenizer"
TOKENIZER_SIZE = 512

# The two chat prompts of hf-tiny (ChatML through the hf-tiny tokenizer) and a response each.
CASES = [
    ([1, 376, 265, 201, 57, 74, 263, 312, 328, 25, 462, 376, 357, 23, 33, 2, 201, 1, 67, 337, 75, 300, 67, 294, 201],
     [22, 20, 16, 2]),
    ([1, 85, 91, 300, 71, 79, 201, 59, 313, 264, 275, 290, 456, 71, 72, 16, 2, 201, 1, 376, 265, 201, 53, 350, 427,
      328, 357, 16, 2, 201, 1, 67, 337, 75, 300, 67, 294, 201],
     [19, 357, 427, 2]),
]

# Real configs (the fields that matter), shrunk: sizes cut down, head_dim kept independent of
# hidden/heads as in the originals, windows shorter than the prompts so that sliding matters.
QWEN3_06B = dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", attention_bias=False, hidden_act="silu",
                 hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=32, max_position_embeddings=256, max_window_layers=28,
                 rms_norm_eps=1e-6, rope_theta=1000000.0, rope_scaling=None, sliding_window=None,
                 use_sliding_window=False, tie_word_embeddings=True,
                 # Qwen pads the embedding past the tokenizer (151936 rows for ~151665 tokens): so here
                 vocab_size=TOKENIZER_SIZE + 16)
GEMMA3_1B = dict(architectures=["Gemma3ForCausalLM"], model_type="gemma3_text", attention_bias=False,
                 attn_logit_softcapping=None, final_logit_softcapping=None, hidden_activation="gelu_pytorch_tanh",
                 hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=1, head_dim=32, query_pre_attn_scalar=24, max_position_embeddings=256,
                 rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=10000.0, rope_scaling=None,
                 sliding_window=7, sliding_window_pattern=2, vocab_size=TOKENIZER_SIZE,
                 # with the sqrt(hidden) embedding scale, 0.25 saturates: greedy repeats one token
                 initializer_range=0.05)
MISTRAL_7B = dict(architectures=["MistralForCausalLM"], model_type="mistral", hidden_act="silu", hidden_size=32,
                  intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=6,
                  tie_word_embeddings=False, vocab_size=TOKENIZER_SIZE)
SPECIAL = dict(bos_token_id=None, eos_token_id=2, pad_token_id=0, initializer_range=0.25)


def build(cfg: dict, seed: int, dtype: torch.dtype, out: Path, gemma_norms: bool):
    config = transformers.AutoConfig.for_model(**{**SPECIAL, **cfg})
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    with torch.no_grad():
        # Norm weights start at ones (zeros for Gemma's 1+w): perturb them so that a missing
        # norm, a swapped one or w instead of 1+w shows in the logits.
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_((0.0 if gemma_norms else 1.0) + 0.3 * torch.randn_like(p))
    if out.exists():
        shutil.rmtree(out)
    model.to(dtype).save_pretrained(out)
    for f in TOKENIZER.iterdir():
        shutil.copy(f, out / f.name)
    # the reference loads the file back and computes in float32, as the Java policy does
    return AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()


def reference(name: str, model, tensors: dict) -> dict:
    cases = []
    for i, (prompt, response) in enumerate(CASES):
        ids = torch.tensor([prompt + response])
        with torch.no_grad():
            logits = model(ids).logits[0]
            logp = torch.log_softmax(logits.double(), -1)
            total = sum(logp[len(prompt) - 1 + j, t].item() for j, t in enumerate(response))
            gen = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                 max_new_tokens=16, min_new_tokens=16, do_sample=False, eos_token_id=None,
                                 pad_token_id=0, use_cache=True, output_logits=True, return_dict_in_generate=True)
            greedy = gen.sequences[0, len(prompt):].tolist()
            # the smallest lead of the chosen token over the runner-up: a float32 reimplementation
            # must pick the same tokens, which needs leads far above its ~1e-5 logit error
            lead = min((s[0].topk(2).values[0] - s[0].topk(2).values[1]).item() for s in gen.logits)
            assert lead > 1e-3, f"{name} case {i}: greedy lead {lead} too thin for a parity test, pick another seed"
        tensors[f"{name}.case{i}.input_ids"] = ids[0].clone()
        tensors[f"{name}.case{i}.logits"] = logits.float().contiguous()
        cases.append(dict(prompt_ids=prompt, response_ids=response, response_logprob_sum=total, greedy_16=greedy,
                          greedy_min_lead=lead))
    return dict(cases=cases, vocab_size=model.config.vocab_size)


def write(dirname: str, models: dict, extra: dict | None = None):
    tensors, out = {}, {}
    for name, model in models.items():
        out[name] = reference(name, model, tensors)
    doc = dict(models=out, made_with=dict(torch=torch.__version__, transformers=transformers.__version__,
                                          tokenizers=tokenizers.__version__), attn="eager")
    if extra:
        doc.update(extra)
    (ROOT / dirname / "reference.json").write_text(json.dumps(doc, indent=1) + "\n")
    safetensors.torch.save_file(tensors, ROOT / dirname / "reference.safetensors", metadata={"format": "pt"})


def padded_decodes() -> list:
    """What transformers' decode makes of ids the embedding has but the tokenizer lacks."""
    tok = AutoTokenizer.from_pretrained(TOKENIZER)
    out = []
    for ids in ([42, 71, 515, 310, 81], [520, 527], [42, 513, 2, 71], [TOKENIZER_SIZE + 15]):
        out.append(dict(ids=ids, text=tok.decode(ids), skip_special=tok.decode(ids, skip_special_tokens=True)))
    return out


def main():
    qwen_tied = build(QWEN3_06B, 6, torch.float32, ROOT / "qwen3-tiny" / "tied-f32", False)
    # Qwen3-8B and larger: untied lm_head
    qwen_untied = build({**QWEN3_06B, "tie_word_embeddings": False}, 2, torch.bfloat16,
                        ROOT / "qwen3-tiny" / "untied-bf16", False)
    write("qwen3-tiny", {"tied-f32": qwen_tied, "untied-bf16": qwen_untied}, {"padded_decode": padded_decodes()})

    gemma = build(GEMMA3_1B, 3, torch.float32, ROOT / "gemma3-tiny" / "f32", True)
    # same architecture from a bfloat16 file, with final-logit soft-capping configured (Gemma 2's
    # mechanism, kept by Gemma 3's code) so that the capping path is checked too, and an attention
    # soft-cap that transformers' Gemma3Attention never applies (a reader must ignore it as well)
    gemma_bf16 = build({**GEMMA3_1B, "final_logit_softcapping": 2.0, "attn_logit_softcapping": 1.0}, 4, torch.bfloat16,
                       ROOT / "gemma3-tiny" / "bf16-softcap", True)
    write("gemma3-tiny", {"f32": gemma, "bf16-softcap": gemma_bf16})

    mistral = build(MISTRAL_7B, 7, torch.float32, ROOT / "mistral-sliding-tiny" / "f32", False)
    write("mistral-sliding-tiny", {"f32": mistral})


if __name__ == "__main__":
    main()
