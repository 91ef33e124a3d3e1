#pragma once
// Lane policies that run one chain's lanes as CPU threads, so the lane-parallel paths of the
// shared HERD_HD code run in the CPU tests:
//  - ThreadLanes: any number of lanes, sums in lane order (the shared code's striding and
//    leader parts, for lane counts a warp never has);
//  - EmulatedWarp: herd's Warp policy (core/warp.hpp, what the CUDA kernels instantiate)
//    over an emulated shuffle: 32 lanes in lockstep, every shuffle and vote a barrier
//    where each lane reads its partner's value, so sums come out in the warp's butterfly
//    order, bit for bit. A collective that not every lane reaches (divergent control flow,
//    undefined with a full mask on a GPU) aborts the test instead of hanging it.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "herd/core/warp.hpp"

namespace herd {
namespace testing {

// What the lanes of one chain share: a reusable barrier and one slot per lane.
struct LaneShared {
  explicit LaneShared(int lanes) : n(lanes), slot(static_cast<size_t>(lanes)) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m);
    const long gen = generation;
    if (++arrived == n) {
      arrived = 0;
      ++generation;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation != gen; });
    }
  }
  int n;
  std::vector<double> slot;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
};

struct ThreadLanes {
  static constexpr bool kSerial = false;
  int id = 0;
  LaneShared* sh = nullptr;
  int lane() const { return id; }
  int count() const { return sh->n; }
  bool leader() const { return id == 0; }
  void sync() const { sh->wait(); }
  template <class R>
  R sum(R x) const {
    sh->slot[static_cast<size_t>(id)] = static_cast<double>(x);
    sync();
    R t = 0;
    for (int i = 0; i < sh->n; ++i) t += static_cast<R>(sh->slot[static_cast<size_t>(i)]);
    sync();
    return t;
  }
  template <class R>
  R broadcast(R x) const {
    if (leader()) sh->slot[0] = static_cast<double>(x);
    sync();
    const R v = static_cast<R>(sh->slot[0]);
    sync();
    return v;
  }
  bool all(bool b) const { return sum(b ? 1.0 : 0.0) == static_cast<double>(sh->n); }
};

// Runs fn(lanes) on n threads, one per lane.
template <class Lanes, class MakeLanes, class F>
void run_threads(int n, MakeLanes make, const F& fn) {
  LaneShared sh(n);
  std::vector<std::thread> pool;
  for (int i = 0; i < n; ++i)
    pool.emplace_back([&, i] {
      const Lanes lanes = make(i, &sh);
      fn(lanes);
    });
  for (auto& t : pool) t.join();
}

inline void run_lanes(int n, const std::function<void(const ThreadLanes&)>& fn) {
  run_threads<ThreadLanes>(n, [](int i, LaneShared* sh) { return ThreadLanes{i, sh}; }, fn);
}

/// The shuffles of a warp, emulated: each writes its value to its lane's slot, waits for all
/// 32, reads the partner's slot and waits again before the slots are reused. Mutation picks
/// a deliberately wrong variant, for the tests that show the comparisons can fail.
enum class ShuffleMutation { kNone, kWrongXorMask, kDroppedLane };  // mask 16 read as 8; lane 1's value lost

template <ShuffleMutation kMutation = ShuffleMutation::kNone>
struct EmulatedShuffle {
  int id = 0;
  LaneShared* sh = nullptr;
  int lane() const { return id; }
  void sync() const { sh->wait(); }
  template <class R>
  R exchange(R x, int src) const {
    sh->slot[static_cast<size_t>(id)] = static_cast<double>(x);
    sh->wait();
    const R v = static_cast<R>(sh->slot[static_cast<size_t>(src)]);
    sh->wait();
    return v;
  }
  template <class R>
  R xor_shuffle(R x, int mask) const {
    if (kMutation == ShuffleMutation::kWrongXorMask && mask == 16) mask = 8;  // lanes 16..31 never join
    const R v = exchange(x, id ^ mask);
    if (kMutation == ShuffleMutation::kDroppedLane && (id ^ mask) == 1) return R(0);  // lane 1's part lost
    return v;
  }
  template <class R>
  R from(R x, int src) const {
    return exchange(x, src);
  }
  bool all(bool b) const {
    sh->slot[static_cast<size_t>(id)] = b ? 1.0 : 0.0;
    sh->wait();
    bool every = true;
    for (int i = 0; i < sh->n; ++i) every = every && sh->slot[static_cast<size_t>(i)] != 0.0;
    sh->wait();
    return every;
  }
};

template <ShuffleMutation kMutation = ShuffleMutation::kNone>
using EmulatedWarp = Warp<EmulatedShuffle<kMutation>>;

/// Runs fn(lanes) on the 32 lockstep lanes of an emulated warp.
template <ShuffleMutation kMutation = ShuffleMutation::kNone, class F>
void run_warp(const F& fn) {
  using W = EmulatedWarp<kMutation>;
  run_threads<W>(W::kWidth, [](int i, LaneShared* sh) { return W{EmulatedShuffle<kMutation>{i, sh}}; }, fn);
}

}  // namespace testing
}  // namespace herd
