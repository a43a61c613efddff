// avx2 build of the per-row kernels (see cpu_rows.inc).
#define DNO_ISA dno_avx2
#include "cpu_rows.inc"
