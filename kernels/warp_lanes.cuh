#pragma once
// A warp per chain: the Lanes policy of herd/core/lanes.hpp over the 32 threads of a warp.
// Sums reduce to lane 0 in a fixed tree and are broadcast, so every lane sees the same bits.
// Host-side bodies exist only so the HERD_HD templates instantiate cleanly; kernels alone
// run them.
#include "herd/core/lanes.hpp"

namespace herd {

struct WarpLanes {
  static constexpr bool kSerial = false;
#if defined(__CUDA_ARCH__)
  __device__ __forceinline__ int lane() const { return static_cast<int>(threadIdx.x & 31u); }
  __device__ __forceinline__ int count() const { return 32; }
  __device__ __forceinline__ bool leader() const { return (threadIdx.x & 31u) == 0; }
  __device__ __forceinline__ void sync() const { __syncwarp(); }
  template <class R>
  __device__ __forceinline__ R sum(R x) const {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_down_sync(0xffffffffu, x, o);
    return __shfl_sync(0xffffffffu, x, 0);
  }
  template <class R>
  __device__ __forceinline__ R broadcast(R x) const {
    return __shfl_sync(0xffffffffu, x, 0);
  }
  __device__ __forceinline__ bool all(bool b) const { return __all_sync(0xffffffffu, b) != 0; }
#else
  int lane() const { return 0; }
  int count() const { return 1; }
  bool leader() const { return true; }
  void sync() const {}
  template <class R>
  R sum(R x) const {
    return x;
  }
  template <class R>
  R broadcast(R x) const {
    return x;
  }
  bool all(bool b) const { return b; }
#endif
};

}  // namespace herd
