#!/usr/bin/env bash
# The one-run GPU check (on the GPU machine, from the repository root, after prepare.sh here):
#   1. the CUDA kernels against the CPU path and the float64 reference (JUnit, tag gpu);
#   2. timings of the CUDA loss at the shapes S, M, L of gpu_peers.py;
#   3. the PyTorch peer baselines (gpu_peers.py) in the same run;
#   4. the data-parallel trainer over NCCL: a launched world of 1 (a process group of its own, the
#      code path of any larger world), then every GPU with train --nproc, on the tiny embedded run.
#      It needs the trainer built against the GPU build of the PyTorch presets (mvn -Pgpu package),
#      whose jars do not fit the carry: point DNO_TORCH_GPU_CP at that class path, or put the jars in
#      .device/torch-gpu/; without them the step says so and is skipped. Emulated: the same commands
#      over Gloo on the CPU with target/dno-native.jar.
# then a short table. Full logs go to $OUT. The three steps are limited to 200 + 180 + 190 s, so
# that the whole check fits one 600 s device call even when a step hangs.
# DNO_CHECK_EMULATED=1 rehearses the whole script here, before GPU time is spent on it: the same
# steps on the CPU emulation of CUDA (cppbuild.sh emulation), tiny timing shapes, no peers.
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
J=.device/jre/bin/java
CP=.device/classes:.device/test-classes:.device/lib/javacpp-1.5.13.jar:.device/lib/javacpp-1.5.13-linux-x86_64.jar
CP=$CP:.device/lib/openblas-0.3.31-1.5.13.jar:.device/lib/openblas-nolapack-linux-x86_64.jar
emulated=${DNO_CHECK_EMULATED:-0}
JOPTS=()
if [[ $emulated == 1 ]]; then
  emu=$PWD/cppbuild/cuda-emu-linux-x86_64
  # Always (incremental): a stale emulation would rehearse older kernel sources than the bundle's.
  bash cppbuild.sh emulation || exit 1
  export LD_PRELOAD=$emu/libdnonative_cudaemu.so LD_LIBRARY_PATH=$emu
  JOPTS=(-Ddno.cudaEmulated=true)
  echo "CPU emulation of CUDA (rehearsal)" | tee "$OUT/gpu.txt"
else
  # cuBLAS 13 lives in the toolkit's lib64 there (the fused loss dlopens it).
  export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
fi

echo "== correctness (JUnit: every kernel test tagged gpu)"
# Each step has its own time limit, so that a hang in one still leaves the others' results.
timeout ${JUNIT_LIMIT_S:-200} $J "${JOPTS[@]}" -jar .device/lib/junit-platform-console-standalone-1.14.1.jar execute --class-path "$CP" \
  --select-package org.dnonative.kernel --include-tag gpu --details=summary \
  --reports-dir "$OUT/junit" > "$OUT/junit.log" 2>&1
junit_rc=$?
tail -20 "$OUT/junit.log"

echo "== timings"
if [[ $emulated == 1 ]]; then
  $J -Xmx4g -cp "$CP:.device/bench" GpuLossTiming --smoke | tee "$OUT/timing.txt"
else
  timeout ${TIMING_LIMIT_S:-180} $J -Xmx4g -cp "$CP:.device/bench" GpuLossTiming 20 | tee "$OUT/timing.txt"
fi
timing_rc=${PIPESTATUS[0]}

if [[ $emulated != 1 ]]; then
  echo "== peers"
  PEERS_BUDGET_S=${PEERS_BUDGET_S:-170} timeout ${PEERS_LIMIT_S:-190} python3 .device/gpu_peers.py > "$OUT/peers.log" 2>&1
  tail -25 "$OUT/peers.log"
fi

echo "== nccl"
tcp=${DNO_TORCH_GPU_CP:-}
if [[ -z $tcp && -d .device/torch-gpu ]]; then tcp=$(ls .device/torch-gpu/*.jar | tr '\n' ':'); fi
dev=cuda; backend=nccl
if [[ $emulated == 1 ]]; then tcp=target/dno-native.jar; dev=cpu; backend=gloo; fi
nccl_rc=skipped
if [[ -z $tcp ]]; then
  echo "nccl: skipped: no trainer on the GPU build of the presets (DNO_TORCH_GPU_CP or .device/torch-gpu/)"
else
  TJ=$J; [[ -x $TJ ]] || TJ=java
  port=$(( 20000 + RANDOM % 20000 ))
  rm -rf "$OUT/nccl-1" "$OUT/nccl-n"
  RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    timeout ${NCCL_LIMIT_S:-150} $TJ -cp "$tcp" org.dnonative.cli.Main train --config benchmarks/dist/tiny.json --device $dev \
    --dist-backend $backend --dist-timeout 60 --out "$OUT/nccl-1" --progress LOG > "$OUT/nccl-1.log" 2>&1
  nccl_rc=$?
  tail -8 "$OUT/nccl-1.log"
  ngpu=1; [[ $emulated == 1 ]] || ngpu=$(nvidia-smi -L | wc -l)
  if [[ $nccl_rc == 0 && $ngpu -gt 1 ]]; then
    timeout ${NCCL_LIMIT_S:-150} $TJ -cp "$tcp" org.dnonative.cli.Main train --nproc $ngpu --config benchmarks/dist/tiny.json \
      --device $dev --dist-backend $backend --dist-timeout 60 --out "$OUT/nccl-n" --progress LOG > "$OUT/nccl-n.log" 2>&1
    nccl_rc=$?
    tail -8 "$OUT/nccl-n.log"
  fi
fi

echo "== summary"
echo "junit exit code: $junit_rc, timing exit code: $timing_rc, nccl: $nccl_rc"
echo "columns: shape N T [H] V  median_ms min_ms max_ms  extra_device_bytes  loss"; cat "$OUT/timing.txt"
[[ $junit_rc == 0 && $timing_rc == 0 && ( $nccl_rc == 0 || $nccl_rc == skipped ) ]]
