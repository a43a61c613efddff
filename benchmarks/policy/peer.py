"""The transformers / PyTorch-eager side of benchmarks/policy/bench.py, the same workloads as
PolicyBenchCommand: load, sampling (generate, 2 prompts x 4 samples, 32-token prompts, 64 new
tokens, temperature 1, no top-k/top-p), scoring (16 x (128 + 128) tokens, batches of 8, log-probs
of the response tokens: lm_head only on the response positions, as ours does), and one training
step (2 DNO pairs of 32 + 32 tokens: forward, the pairwise log-ratio loss, backward, gradient
clipping at 1, torch.optim.AdamW; the median of REPEATS steps after 3 warm-up steps). float32, torch.set_num_threads(THREADS). Prints RESULT lines.

Usage: python3 peer.py MODEL_DIR THREADS REPEATS [PARTS]
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

model_dir, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
parts = (sys.argv[4] if len(sys.argv) > 4 else "load,sampling,scoring,train").split(",")
torch.set_num_threads(threads)


def result(key, value):
    print(f"RESULT {key} {value:.3f}", flush=True)


def load():
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()


if "load" in parts:
    t0 = time.perf_counter(); load(); result("load_first_ms", (time.perf_counter() - t0) * 1e3)
    ms = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter(); load(); ms.append((time.perf_counter() - t0) * 1e3)
    result("load_ms", statistics.median(ms))

model = load()
vocab = model.config.vocab_size
g = torch.Generator().manual_seed(7)


def ids(b, t):
    return torch.randint(3, vocab, (b, t), generator=g)


if "sampling" in parts:
    prompts = ids(2, 32)
    kw = dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, num_return_sequences=4, pad_token_id=0,
              attention_mask=torch.ones_like(prompts))
    with torch.inference_mode():
        model.generate(prompts, max_new_tokens=64, min_new_tokens=64, **kw)  # warm-up: the whole workload once, as ours does
        tps = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = model.generate(prompts, max_new_tokens=64, min_new_tokens=64, **kw)
            tps.append((out.shape[0] * (out.shape[1] - 32)) / (time.perf_counter() - t0))
    result("sampling_tok_s", statistics.median(tps))


def response_logps(seqs, prompt_len):
    hidden = model.model(input_ids=seqs).last_hidden_state
    h = hidden[:, prompt_len - 1:-1]                       # the positions that predict the response tokens
    logp = F.log_softmax(model.lm_head(h).float(), -1)
    return logp.gather(-1, seqs[:, prompt_len:].unsqueeze(-1)).squeeze(-1).sum(-1)


if "scoring" in parts:
    seqs = ids(16, 256)
    with torch.inference_mode():
        response_logps(seqs[:2], 128)
        sc = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for b in range(0, 16, 8):
                response_logps(seqs[b:b + 8], 128).tolist()
            sc.append(16 * 256 / (time.perf_counter() - t0))
    result("scoring_tok_s", statistics.median(sc))

if "train" in parts:
    prompts = ids(2, 32)
    seqs = torch.cat([prompts.repeat(2, 1), ids(4, 32)], 1)   # chosen (2), then rejected (2) to the same prompts
    ref = torch.tensor([-350.0, -352.0, -351.0, -353.0])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)
    model.train()
    ms = []
    warmup = 3  # as many as bench-policy's (TRAIN_WARMUP), whose JIT compiles during its first steps
    for r in range(repeats + warmup):
        t0 = time.perf_counter()
        lp = response_logps(seqs, 32)
        z = 0.1 * ((lp[:2] - ref[:2]) - (lp[2:] - ref[2:]))
        loss = -F.logsigmoid(z).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()  # PyTorch's default (set_to_none=True), as ours drops its gradients; no slower here than zeroing
        if r >= warmup:
            ms.append((time.perf_counter() - t0) * 1e3)
    result("train_step_ms", statistics.median(ms))
