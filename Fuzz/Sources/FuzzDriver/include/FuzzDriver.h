#ifndef LLMPERF_FUZZ_DRIVER_H
#define LLMPERF_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer (its command line in argc/argv) on `test_one_input`. The fuzz executables call
/// this from their own entry point: SwiftPM names an executable's entry `<Target>_main` and points
/// `main` at it, which leaves libFuzzer's `main` out of the link.
int llmperf_fuzz_main(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
