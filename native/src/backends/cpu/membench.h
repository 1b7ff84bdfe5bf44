/*
 * membench.h: the DRAM read-bandwidth probe behind the engine benchmark's roofline (bandwidth /
 * bytes per token). Self-contained (no other engine file), so bench/llama-cpp/setup.sh compiles it
 * into its llama.cpp harness and both programs divide by the same measurement.
 */
#pragma once
#include <cstddef>

// Sustained read bandwidth in GB/s (10^9 B/s) over a buffer of `bytes` (>= 256 MiB recommended)
// read by n_threads threads, best of `repeats`; 0 when the buffer cannot be allocated.
double bench_read_bandwidth(size_t bytes, int n_threads, int repeats) noexcept;
