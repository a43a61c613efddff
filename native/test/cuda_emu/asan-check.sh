#!/usr/bin/env bash
# The GPU test classes on the CPU emulation of CUDA built with AddressSanitizer: out-of-bounds
# reads and writes of the kernels (rows, vector heads and tails, workspaces) are reported.
# Not part of CI (it takes a few minutes); run from anywhere after `mvn -B -pl native test-compile`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=cppbuild/cuda-emu-asan
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DDNO_CUDA=OFF -DDNO_CUDA_EMULATION=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target dnonative_cudaemu cublas_emu >/dev/null
asan=$(readlink -f "$(g++ -print-file-name=libasan.so)")
log=$build/tests.log
# The JVM handles SIGSEGV itself; ASan must leave it alone. Fibers switch stacks, which ASan
# warns about once; leaks of the JVM are not ours.
ASAN_OPTIONS=handle_segv=0,allow_user_segv_handler=1,detect_leaks=0,detect_stack_use_after_return=0 \
LD_PRELOAD="$asan $PWD/$build/libdnonative_cudaemu.so" LD_LIBRARY_PATH="$PWD/$build" \
  mvn -B -o -pl native surefire:test -Dtest='Cuda*Test' -DargLine="-Xmx6g -Ddno.cudaEmulated=true" \
  -Dsurefire.rerunFailingTestsCount=0 >"$log" 2>&1 || { tail -40 "$log"; exit 1; }
if grep -q "ERROR: AddressSanitizer" "$log"; then grep -A30 "ERROR: AddressSanitizer" "$log" | head -60; exit 1; fi
grep -E "Tests run:" "$log" | tail -1
echo "asan-check: no AddressSanitizer finding (log: $log)"
