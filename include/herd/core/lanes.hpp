#pragma once
// Lanes: the threads that evaluate one chain together. Shared HERD_HD code (the log density,
// NUTS) strides its loops over weeks and coordinates by lane and reduces partial sums through
// the policy. SerialLanes is one lane: the loops and sums are then exactly the serial code the
// CPU runs. Warp (warp.hpp) is 32 lanes over a shuffle backend: the CUDA kernels' WarpLanes
// (kernels/warp_lanes.cuh) and the tests' lockstep emulator.
//
// Rules the shared code keeps: element i of every per-chain vector is touched only by lane
// i % count() (so lanes never race on it); anything else in the chain's scratch is written by
// the leader alone, with sync() before other lanes read it; sums and flags that steer control
// flow come back identical on every lane.
#include "herd/core/hd.hpp"

namespace herd {

/// One lane: the serial code.
struct SerialLanes {
  static constexpr bool kSerial = true;
  HERD_HD_INLINE int lane() const { return 0; }
  HERD_HD_INLINE int count() const { return 1; }
  HERD_HD_INLINE bool leader() const { return true; }
  HERD_HD_INLINE void sync() const {}
  /// The sum of x over lanes, on every lane.
  template <class R>
  HERD_HD_INLINE R sum(R x) const {
    return x;
  }
  /// The leader's x, on every lane.
  template <class R>
  HERD_HD_INLINE R broadcast(R x) const {
    return x;
  }
  /// True on every lane when b is true on all of them.
  HERD_HD_INLINE bool all(bool b) const { return b; }
};

}  // namespace herd
