/*
 * stopwatch.h: the native micro-benchmarks' (bench/native/*.cpp) one timer: seconds since a
 * steady_clock time point.
 */
#pragma once
#include <chrono>

inline double seconds_since(const std::chrono::steady_clock::time_point & t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
