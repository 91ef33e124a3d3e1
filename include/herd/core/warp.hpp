#pragma once
// The Lanes policy of a 32-lane warp (see lanes.hpp), written once over a shuffle backend:
// CudaShuffle (kernels/warp_lanes.cuh) in the kernels, the lockstep emulator of the tests on
// the CPU. The reduction is a butterfly: at each step lane i adds lane i ^ offset's partial
// sum, so after five steps every lane holds the sum, with the same bits on every lane (each
// pair adds the same two numbers, and IEEE addition commutes) and, on lane 0, the same order
// as a shuffle-down tree.
#include "herd/core/hd.hpp"

namespace herd {

/// A warp of kWidth lanes over Shuffle, which provides lane(), sync(), xor_shuffle(x, mask)
/// (lane i gets lane i ^ mask's x), from(x, src) (every lane gets lane src's x) and all(b).
template <class Shuffle>
struct Warp {
  static constexpr bool kSerial = false;
  static constexpr int kWidth = 32;
  Shuffle shuffle;
  HERD_HD_INLINE int lane() const { return shuffle.lane(); }
  HERD_HD_INLINE int count() const { return kWidth; }
  HERD_HD_INLINE bool leader() const { return shuffle.lane() == 0; }
  HERD_HD_INLINE void sync() const { shuffle.sync(); }
  /// The sum of x over lanes, on every lane.
  template <class R>
  HERD_HD_INLINE R sum(R x) const {
    for (int mask = kWidth / 2; mask > 0; mask >>= 1) x += shuffle.xor_shuffle(x, mask);
    return x;
  }
  /// The leader's x, on every lane.
  template <class R>
  HERD_HD_INLINE R broadcast(R x) const {
    return shuffle.from(x, 0);
  }
  /// True on every lane when b is true on all of them.
  HERD_HD_INLINE bool all(bool b) const { return shuffle.all(b); }
};

}  // namespace herd
