/*
 * libfuzzer.c - the libFuzzer entry point for one target, chosen at build
 * time with -DFUZZ_TARGET=fuzz_csv (and so on; see the Makefile's fuzz rule).
 */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return FUZZ_TARGET(data, size);
}
