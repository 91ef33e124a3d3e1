#pragma once
// A warp per chain: herd's Warp policy (herd/core/warp.hpp, the code the CPU's lockstep
// emulator tests) over the CUDA shuffle intrinsics. Host-side bodies exist only so the
// HERD_HD templates instantiate cleanly; kernels alone run them.
#include "herd/core/warp.hpp"

namespace herd {

/// The warp's shuffles and votes, all lanes taking part (full mask).
struct CudaShuffle {
#if defined(__CUDA_ARCH__)
  __device__ __forceinline__ int lane() const { return static_cast<int>(threadIdx.x & 31u); }
  __device__ __forceinline__ void sync() const { __syncwarp(); }
  template <class R>
  __device__ __forceinline__ R xor_shuffle(R x, int mask) const {
    return __shfl_xor_sync(0xffffffffu, x, mask);
  }
  template <class R>
  __device__ __forceinline__ R from(R x, int src) const {
    return __shfl_sync(0xffffffffu, x, src);
  }
  __device__ __forceinline__ bool all(bool b) const { return __all_sync(0xffffffffu, b) != 0; }
#else
  int lane() const { return 0; }
  void sync() const {}
  template <class R>
  R xor_shuffle(R, int) const {
    return R(0);
  }
  template <class R>
  R from(R x, int) const {
    return x;
  }
  bool all(bool b) const { return b; }
#endif
};

using WarpLanes = Warp<CudaShuffle>;

}  // namespace herd
