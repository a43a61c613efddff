// CPU emulation of CUDA for tests: see ../cuda_emu.h
#include "../cuda_emu.h"
