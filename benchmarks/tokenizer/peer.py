#!/usr/bin/env python3
"""The HF side of benchmarks/tokenizer/bench.sh: the same measurements as TokenizerBench.java with
HF tokenizers, one thread (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false), same output format:
model op chars median_ms min_ms cpu_ms ids_hash (the hash is Java's Arrays.hashCode of the ids)."""
import os
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer  # noqa: E402


def java_hash(ids):
    h = 1
    for i in ids:
        h = (31 * h + i) & 0xFFFFFFFF
    return h


def timed(fn, repeats):
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        out = fn()
        wall.append(time.perf_counter_ns() - w0)
        cpu.append(time.process_time_ns() - c0)
    return sorted(wall), sorted(cpu), out


def show(model, op, chars, wall, cpu, h):
    print(f"{model} {op} {chars} {wall[len(wall) // 2] / 1e6:.3f} {wall[0] / 1e6:.3f} {cpu[len(cpu) // 2] / 1e6:.3f} {h}", flush=True)


def main():
    model, path, repeats, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    wall, cpu, tok = timed(lambda: Tokenizer.from_file(path), repeats)
    show(model, "load", 0, wall, cpu, 0)
    for f in files:
        text = open(f, encoding="utf-8").read()
        for _ in range(3):
            tok.encode(text, add_special_tokens=False)
        wall, cpu, enc = timed(lambda: tok.encode(text, add_special_tokens=False), repeats)
        n = len(text.encode("utf-16-le")) // 2
        batch = max(5, 1_000_000 // max(1, n))  # as TokenizerBench: mean process CPU over ~1M characters
        c0 = time.process_time_ns()
        for _ in range(batch):
            tok.encode(text, add_special_tokens=False)
        cpu = [(time.process_time_ns() - c0) // batch]
        show(model, "encode", n, wall, cpu, java_hash(enc.ids))


if __name__ == "__main__":
    main()
