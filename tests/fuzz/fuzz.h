/*
 * fuzz.h: the libFuzzer entry point every target defines. The same target
 * builds two ways: with clang -fsanitize=fuzzer for fuzzing, or linked with
 * replay.c (gcc, any build) so `make check` replays the corpus under the
 * sanitizers of that build.
 */
#ifndef STOA_FUZZ_H
#define STOA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
