// generic build of the per-row kernels (see cpu_rows.inc).
#define DNO_ISA dno_generic
#include "cpu_rows.inc"
