#pragma once
// Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"), a
// counter-based generator: the stream of a chain is a pure function of (key, counter), so a
// model's draws are the same whatever thread or GPU block runs it and whatever else is in the
// batch. herd keys it by (seed, model) and counts (chain, iteration, use, block).
#include <cmath>
#include <cstdint>

#include "herd/core/hd.hpp"

namespace herd {

/// One Philox4x32-10 block: 4 random words from a 4-word counter and a 2-word key.
HERD_HD_INLINE void philox4x32_10(const std::uint32_t ctr_in[4], const std::uint32_t key_in[2], std::uint32_t out[4]) {
  std::uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  std::uint32_t k0 = key_in[0], k1 = key_in[1];
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/// What a stream is used for: part of the counter, so no two uses ever share numbers.
enum class RngUse : std::uint32_t { kInit = 0, kTransition = 1, kStepsizeSearch = 2, kChees = 3, kSimulate = 4 };

/// 64-bit mixing (splitmix64's finalizer) to fold the seed and a model's identity into the key.
HERD_HD_INLINE std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Key of a model's streams: depends on the run seed and the model's own identity (a hash of
/// its name), never on its position in a batch.
HERD_HD_INLINE std::uint64_t stream_key(std::uint64_t seed, std::uint64_t model_id) {
  return mix64(seed ^ mix64(model_id));
}

/// A stream of uniforms and normals for one (chain, iteration, use).
class Philox {
 public:
  HERD_HD Philox(std::uint64_t key, std::uint32_t chain, std::uint32_t iteration, RngUse use)
      : key_{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)},
        ctr_{chain, iteration, static_cast<std::uint32_t>(use), 0u} {}

  HERD_HD std::uint32_t next_u32() {
    if (idx_ == 4) {
      philox4x32_10(ctr_, key_, buf_);
      ++ctr_[3];
      idx_ = 0;
    }
    return buf_[idx_++];
  }

  /// Uniform on the open interval (0, 1) with 53 random bits.
  HERD_HD double uniform() {
    const std::uint64_t a = next_u32() >> 5, b = next_u32() >> 6;  // 27 + 26 bits
    return (static_cast<double>((a << 26) | b) + 0.5) * (1.0 / 9007199254740992.0);
  }

  /// Standard normal by Box-Muller (one of the pair; the gradient costs dwarf the waste).
  HERD_HD double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
  }

 private:
  std::uint32_t key_[2];
  std::uint32_t ctr_[4];
  std::uint32_t buf_[4] = {0, 0, 0, 0};
  int idx_ = 4;
};

}  // namespace herd
