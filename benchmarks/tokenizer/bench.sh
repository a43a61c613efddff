#!/usr/bin/env bash
# Tokenizer speed, this project's Java tokenizer against HF tokenizers, side by side in one run:
# for each model, HF (peer.py) then Java (TokenizerBench), one thread each, the same texts of
# 1k-100k characters (texts.py); load and encode times (median wall, min wall, median thread CPU)
# and a hash of the ids, which must agree. Needs a JDK 17+ (the tokenizer package needs no library),
# pip install tokenizers==0.23.2, src/test/fixtures-gen/fetch-tokenizers.sh.
# Usage: benchmarks/tokenizer/bench.sh [REPEATS] [MODEL...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
repeats="${1:-7}"; shift || true
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(llama3 llama2 gemma3 qwen3 deepseek_v3 gptoss)
out="$root/benchmarks/tokenizer/out"; mkdir -p "$out"
cp="$out"
# the tokenizer package compiled on its own (not the shared target/classes; ChatTemplate needs Jinjava)
javac -nowarn -d "$out" -cp "$cp" $(ls src/main/java/org/dnonative/model/tokenizer/*.java | grep -v ChatTemplate) \
  benchmarks/tokenizer/TokenizerBench.java
sizes="1000 3000 10000 30000 100000"
python3 benchmarks/tokenizer/texts.py "$out" $sizes
texts=(); for n in $sizes; do texts+=("$out/text-$n.txt"); done
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# java $(java -version 2>&1 | head -1 | cut -d'"' -f2), tokenizers $(python3 -c 'import tokenizers; print(tokenizers.__version__)')"
echo "# side model op chars median_ms min_ms cpu_ms ids_hash"
for m in "${models[@]}"; do
  f="src/test/fixtures/tokenizers/npm/$m/tokenizer.json"
  python3 benchmarks/tokenizer/peer.py "$m" "$f" "$repeats" "${texts[@]}" | sed 's/^/hf /'
  java -Xss8m -cp "$cp" TokenizerBench "$m" "$f" "$repeats" "${texts[@]}" | sed 's/^/java /'
done
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
