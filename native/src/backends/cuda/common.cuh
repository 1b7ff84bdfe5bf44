/*
 * common.cuh: CUDA error checking with file:line (llm.c's cudaCheck) shared by the CUDA backend files.
 */
#pragma once
#include <cuda_runtime.h>
#include <cstdio>

#define CUDA_CHECK(call)                                                                              \
    do {                                                                                              \
        cudaError_t err_ = (call);                                                                    \
        if (err_ != cudaSuccess) {                                                                    \
            std::fprintf(stderr, "%s:%d: CUDA error %s: %s\n", __FILE__, __LINE__, cudaGetErrorName(err_), \
                         cudaGetErrorString(err_));                                                   \
        }                                                                                             \
    } while (0)
