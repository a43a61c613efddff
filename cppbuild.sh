#!/usr/bin/env bash
# Builds libdnonative with CMake the way the JavaCPP presets do, and installs it into
# cppbuild/<platform>/{include,lib}, where the JavaCPP Maven plugin finds it.
# Usage: ./cppbuild.sh [-platform linux-x86_64] [-extension E] [install|clean|emulation]
#   emulation: builds the test-only CPU emulation of the CUDA kernels (native/test/cuda_emu) into
#   cppbuild/cuda-emu-<platform>/ (libdnonative_cudaemu.so and a cuBLAS stand-in); never installed.
# Environment: DNO_CUDA=ON|OFF|AUTO (default AUTO: CUDA when nvcc is found), CMAKE_BUILD_PARALLEL_LEVEL.
set -euo pipefail
cd "$(dirname "$0")"

platform=linux-x86_64
extension=
operation=install
while [[ $# -gt 0 ]]; do
  case "$1" in
    -platform) platform="$2"; shift 2 ;;
    -extension) extension="$2"; shift 2 ;;
    install|clean|emulation) operation="$1"; shift ;;
    *) echo "cppbuild.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

prefix="$PWD/cppbuild/$platform$extension"
build="$PWD/cppbuild/build-$platform$extension"
if [[ "$operation" == clean ]]; then
  rm -rf "$prefix" "$build" "$PWD/cppbuild/cuda-emu-$platform$extension"
  exit 0
fi
if [[ "$operation" == emulation ]]; then
  emu="$PWD/cppbuild/cuda-emu-$platform$extension"
  mkdir -p "$emu"
  { cmake -S . -B "$emu" -DCMAKE_BUILD_TYPE=Release -DDNO_CUDA=OFF -DDNO_CUDA_EMULATION=ON ${CMAKE_ARGS:-} &&
    cmake --build "$emu" --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" --target dnonative_cudaemu cublas_emu
  } >"$emu.log" 2>&1 || { cat "$emu.log" >&2; exit 1; }
  echo "cppbuild.sh: built the CUDA emulation into $emu"
  exit 0
fi

case "$platform" in
  linux-x86_64) ;;
  *) echo "cppbuild.sh: platform '$platform' is not supported yet (linux-x86_64 is)" >&2; exit 2 ;;
esac

mkdir -p "$PWD/cppbuild"

# nvcc is often installed but not on PATH.
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DDNO_CUDA="${DNO_CUDA:-AUTO}" ${CMAKE_ARGS:-} >"$build.log" 2>&1 || { cat "$build.log" >&2; exit 1; }
cmake --build "$build" --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" >>"$build.log" 2>&1 || { cat "$build.log" >&2; exit 1; }
cmake --install "$build" >>"$build.log" 2>&1 || { cat "$build.log" >&2; exit 1; }
grep -E 'dnonative:' "$build.log" || true
echo "cppbuild.sh: installed libdnonative into $prefix"
