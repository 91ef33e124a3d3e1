#pragma once
// HERD_HD marks functions that run on both host and device. Model math and per-chain
// sampler code are written once with it; the CPU executor and CUDA kernels call the same code.
#if defined(__CUDACC__)
#define HERD_HD __host__ __device__
#define HERD_HD_INLINE __host__ __device__ __forceinline__
#else
#define HERD_HD
#define HERD_HD_INLINE inline
#endif
