# Rewrites CUDA launches for the CPU emulation (cuda_emu.h), e.g.
#   row_stats_kernel<T><<<rows, threads, 0, stream>>>(args)
#   -> emu::launch("row_stats_kernel<T>", row_stats_kernel<T>, rows, threads, 0, stream)(args)
# Usage: cmake -DIN=file.cu -DOUT=file.cpp -P rewrite_launches.cmake
file(READ "${IN}" src)
string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_]*(<[^<>;]*>)?)<<<([^>]*)>>>" "emu::launch(\"\\1\", \\1, \\3)" out "${src}")
string(FIND "${out}" "<<<" left)
if(NOT left EQUAL -1)
  message(FATAL_ERROR "rewrite_launches: a launch in ${IN} was not rewritten")
endif()
file(WRITE "${OUT}" "// Generated from ${IN} for the CPU emulation of CUDA; do not edit.\n#line 1 \"${IN}\"\n${out}")
