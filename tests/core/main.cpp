// The core test executable's main, and the one translation unit that instantiates the Highway
// kernels (GEMMA4_IMPLEMENTATION, see include/gemma4/kernels.h).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#define GEMMA4_IMPLEMENTATION
#include "gemma4/gemma4.h"
