#!/usr/bin/env bash
# The one-run GPU check (on the GPU machine, from the repository root, after prepare.sh here):
#   1. the CUDA kernels against the CPU path and the float64 reference (JUnit, tag gpu);
#   2. timings of the CUDA loss at the shapes S, M, L of gpu_peers.py;
#   3. the PyTorch peer baselines (gpu_peers.py) in the same run;
# then a short table. Full logs go to $OUT.
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
J=.device/jre/bin/java
CP=.device/classes:.device/test-classes:.device/lib/javacpp-1.5.13.jar:.device/lib/javacpp-1.5.13-linux-x86_64.jar
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== correctness (JUnit, tag gpu)"
$J -jar .device/lib/junit-platform-console-standalone-1.14.1.jar execute --class-path "$CP" \
  --select-class org.dnonative.kernel.CudaDnoLossTest --select-class org.dnonative.kernel.CudaFusedLinearDnoLossTest --include-tag gpu --details=summary \
  --reports-dir "$OUT/junit" > "$OUT/junit.log" 2>&1
junit_rc=$?
tail -20 "$OUT/junit.log"

echo "== timings"
$J -Xmx4g -cp "$CP:.device/bench" GpuLossTiming 20 | tee "$OUT/timing.txt"

echo "== peers"
PEERS_BUDGET_S=${PEERS_BUDGET_S:-200} python3 .device/gpu_peers.py > "$OUT/peers.log" 2>&1
tail -25 "$OUT/peers.log"

echo "== summary"
echo "junit exit code: $junit_rc"
echo "columns: shape N T [H] V  median_ms min_ms max_ms  extra_device_bytes  loss"; cat "$OUT/timing.txt"
exit $junit_rc
