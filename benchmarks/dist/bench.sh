#!/usr/bin/env bash
# Data-parallel DNO on this machine: (1) one DNO iteration of the embedded default run with 1 and
# 2 processes (train --nproc, one libtorch thread each), read from the stage markers' seconds;
# (2) the all-reduce of float32 tensors over Gloo between 2 processes on 127.0.0.1, from the
# embedded policy's gradient size up. Runs are interleaved (1, 2, 1, 2, ...); `uptime` is printed
# beside each. Needs target/dno-native.jar (mvn -o -q -f src/pom.xml package -DskipTests).
#   usage: benchmarks/dist/bench.sh [REPEATS] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-2}
out=${2:-/tmp/dno-dist-bench}
jar=target/dno-native.jar
mkdir -p "$out"
# one thread per process everywhere (libtorch, OpenMP, OpenBLAS): without OMP_NUM_THREADS=1 a lone
# process's OpenMP team spin-waits on a shared machine (the warm start measured 10x slower)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ)"

# (1) DNO iterations: the embedded defaults, 3 iterations; a stage's seconds are in iter-t/done/STAGE
for r in $(seq 1 "$repeats"); do
  for n in 1 2; do
    dir=$out/run-n$n-r$r
    rm -rf "$dir"
    echo "load before: $(uptime | sed 's/.*load average: //')"
    start=$(date +%s.%N)
    if [[ $n == 1 ]]; then
      java -jar $jar train --out "$dir" --progress OFF --threads 1 > "$dir.log" 2>&1
    else
      java -jar $jar train --nproc $n --out "$dir" --progress OFF --threads 1 > "$dir.log" 2>&1
    fi
    end=$(date +%s.%N)
    python3 - "$dir" "$n" "$start" "$end" <<'PY'
import json, sys, pathlib
d, n, start, end = pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
stages = ["samples", "judgments", "pairs", "reference", "train", "eval", "metrics"]
row = []
for t in (1, 2, 3):
    s = {st: json.loads((d / f"iter-{t}" / "done" / st).read_text())["seconds"] for st in stages}
    row.append(s)
tot = [sum(s.values()) for s in row]
per = {st: sum(s[st] for s in row) / 3 for st in stages}
start0 = sum(json.loads((d / "iter-0" / "done" / st).read_text())["seconds"] for st in ["split", "sft", "eval", "metrics"])
print(f"dno nproc={n} iteration_s=" + ",".join(f"{x:.3f}" for x in tot) + f" mean_iteration_s={sum(tot)/3:.3f} start_s={start0:.2f} wall_s={end-start:.1f} "
      + " ".join(f"{k}={v:.3f}" for k, v in per.items()))
PY
    echo "load after: $(uptime | sed 's/.*load average: //')"
  done
done

# (2) all-reduce between 2 processes: the embedded policy's gradient (its parameter count), then larger
mkdir -p "$out/bench-classes"
javac -d "$out/bench-classes" -cp $jar benchmarks/dist/AllReduceBench.java
params=$(python3 -c "import json,sys; from pathlib import Path; import struct
f=open('$out/run-n1-r1/iter-0/checkpoint/model.safetensors','rb'); h=struct.unpack('<Q',f.read(8))[0]; j=json.loads(f.read(h))
import math; print(sum(math.prod(v['shape']) for k,v in j.items() if k!='__metadata__'))")
echo "embedded policy parameters: $params"
for r in $(seq 1 "$repeats"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "load before: $(uptime | sed 's/.*load average: //')"
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 LOCAL_RANK=$rank LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port OMP_NUM_THREADS=1 \
      java -cp "$jar:$out/bench-classes" AllReduceBench 20 "$params" 1000000 10000000 > "$out/allreduce-r$r-$rank.log" 2>&1 &
  done
  wait
  grep '^allreduce' "$out/allreduce-r$r-0.log"
  echo "load after: $(uptime | sed 's/.*load average: //')"
done
