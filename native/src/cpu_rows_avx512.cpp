// avx512 build of the per-row kernels (see cpu_rows.inc).
#define DNO_ISA dno_avx512
#include "cpu_rows.inc"
