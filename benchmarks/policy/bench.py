"""Policy speed, this project against transformers / PyTorch eager, side by side in one run.

For each round and each thread count, in turn: ours in float32 (bench-policy: load, sampling,
scoring, training step with training.loss native), our training step with each further
--train-loss (default: fused), ours sampling with bfloat16 weights, and the peer (peer.py: transformers
generate, forward, PyTorch-eager training step), each in a fresh process, JVM start and model load
excluded from the figures (the training step after 3 warm-up steps on both sides: the JVM's JIT
compiles during the first ones). Every process prints medians of its repeats; the table gives the
median over rounds and the ratio ours / peer, with the load average before each run.

Usage: python3 benchmarks/policy/bench.py [--rounds 3] [--repeats 3] [--threads 1,2] [--model DIR]
Needs target/dno-native.jar (mvn -f src/pom.xml package -DskipTests) and pip install torch transformers safetensors.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
ap = argparse.ArgumentParser()
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--threads", default="1,2")
ap.add_argument("--model", default="/tmp/dno-bench/llama-39m")
ap.add_argument("--jar", default=os.path.join(root, "target", "dno-native.jar"))
ap.add_argument("--raw", default=None, help="append every RESULT line here")
ap.add_argument("--train-loss", default="NATIVE,FUSED",
                help="our training step's pair loss(es) (training.loss): NATIVE (the default of train), FUSED, LIBTORCH")
a = ap.parse_args()

if not os.path.exists(os.path.join(a.model, "model.safetensors")):
    subprocess.run([sys.executable, os.path.join(here, "make_model.py"), a.model], check=True)


def load():
    return open("/proc/loadavg").read().split()[0]


def run(side, threads, cmd):
    before = load()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"{side} failed:\n{p.stdout}\n{p.stderr}")
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            _, k, v = line.split()
            out[k] = float(v)
    line = f"{datetime.datetime.utcnow():%H:%M:%S} load {before} {side} threads={threads} " + " ".join(f"{k}={v:.4g}" for k, v in out.items())
    print(line, flush=True)
    if a.raw:
        with open(a.raw, "a") as f:
            f.write(line + "\n")
    return out, float(before)


threads = [int(t) for t in a.threads.split(",")]
losses = a.train_loss.split(",")
java = ["java", "-cp", a.jar, "org.dnonative.cli.Main", "bench-policy", "--model", a.model, "--repeats", str(a.repeats)]
res = {}   # (side, threads) -> key -> [values]
loads = []
print(f"# {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
      f"{next(l for l in open('/proc/cpuinfo') if l.startswith('model name')).split(':')[1].strip()}", flush=True)
for r in range(a.rounds):
    for t in threads:
        for side, cmd in [
            ("ours-f32", java + ["--threads", str(t), "--parts", "load,sampling,scoring,train",
                                 "--train-loss", losses[0]]),
        ] + [
            (f"ours-train-{k}", java + ["--threads", str(t), "--parts", "train", "--train-loss", k]) for k in losses[1:]
        ] + [
            ("ours-bf16", java + ["--threads", str(t), "--parts", "sampling", "--sampling-dtype", "bfloat16"]),
            ("peer", [sys.executable, os.path.join(here, "peer.py"), a.model, str(t), str(a.repeats)]),
        ]:
            out, ld = run(side, t, cmd)
            loads.append(ld)
            for k, v in out.items():
                res.setdefault((side, t), {}).setdefault(k, []).append(v)


def med(side, t, k):
    v = res.get((side, t), {}).get(k)
    return statistics.median(v) if v else float("nan")


print(f"\nload average before the runs: median {statistics.median(loads):.2f}, range {min(loads):.2f}-{max(loads):.2f}")
print("\n| threads | sampling tok/s: ours f32 / ours bf16 / transformers (ratios) | scoring tok/s: ours / transformers | training step ms: ours (training.loss " + losses[0].lower() + ") / PyTorch eager (speed ratio) | load ms: ours / transformers |")
print("|---|---|---|---|---|")
for t in threads:
    sf, sb, sp = med("ours-f32", t, "sampling_tok_s"), med("ours-bf16", t, "sampling_tok_s"), med("peer", t, "sampling_tok_s")
    cf, cp = med("ours-f32", t, "scoring_tok_s"), med("peer", t, "scoring_tok_s")
    tf, tp = med("ours-f32", t, "train_step_ms"), med("peer", t, "train_step_ms")
    lf, lp = med("ours-f32", t, "load_ms"), med("peer", t, "load_ms")
    print(f"| {t} | {sf:.0f} / {sb:.0f} / {sp:.0f} ({sf / sp:.2f}x, {sb / sp:.2f}x) | {cf:.0f} / {cp:.0f} ({cf / cp:.2f}x) "
          f"| {tf:.0f} / {tp:.0f} ({tp / tf:.2f}x) | {lf:.0f} / {lp:.0f} ({lf / lp:.2f}x) |")
for t in threads:
    for k in losses[1:]:
        tk, tp = med(f"ours-train-{k}", t, "train_step_ms"), med("peer", t, "train_step_ms")
        print(f"\n{t} thread(s), training step with training.loss {k.lower()}: {tk:.0f} ms vs PyTorch eager {tp:.0f} ms ({tp / tk:.2f}x)")
amx = res.get(("ours-f32", threads[0]), {}).get("scoring_amx_err_per_token")
if amx:
    print(f"\nscoring through AMX (bf16x3) vs libtorch float32 products: mean |log-prob difference| per token {statistics.median(amx):.2e} nats")
err = res.get(("ours-bf16", threads[0]), {}).get("sampling_logprob_err_per_token")
if err:
    print(f"\nbf16 sampling: sampled tokens' log-prob, bf16 weights vs float32, mean |difference| per token {statistics.median(err):.2e} nats")
