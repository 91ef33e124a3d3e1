#pragma once
// One wave state for every backend, in the cuCollections owner/ref shape: WaveState owns one
// block holding every per-chain and per-model array of a wave, laid out once here, and ref()
// is the trivially copyable WaveView the chain functions (and kernels, by value) take. The
// host and CUDA backends differ only in Memory: where the block lives and how bytes cross to
// and from it (HostMemory below; DeviceMemory in kernels/wave_backend.cu).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "herd/engine/wave.hpp"
#include "herd/engine/wave_tables.hpp"

namespace herd {

/// Bump allocator over a byte count: 256-byte aligned offsets into one block.
struct Arena {
  size_t used = 0;
  size_t take(size_t bytes) {
    const size_t at = (used + 255) / 256 * 256;
    used = at + bytes;
    return at;
  }
};

/// Host memory: a zeroed, 256-byte aligned block; copies are memcpy.
struct HostMemory {
  static void* allocate(size_t bytes) {
    const size_t n = (bytes + 255) / 256 * 256 + 256;
    void* p = std::aligned_alloc(256, n);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, n);
    return p;
  }
  static void release(void* p) { std::free(p); }
  static void copy_in(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void copy_out(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
};

/// p[0..n) as doubles: p itself in a float64 wave, else converted into conv.
template <class Real>
const double* as_host_doubles(const Real* p, size_t n, std::vector<double>& conv) {
  if constexpr (std::is_same_v<Real, double>) {
    (void)n;
    (void)conv;
    return p;
  } else {
    conv.assign(p, p + n);
    return conv.data();
  }
}

/// Every array of a wave (WaveView's), in one block of Memory. `models` are the models'
/// target views, already in Memory. Every array starts zeroed; wave_initialize sets the rest.
template <class Real, class Memory, class View = ModelView<Real>>
class WaveState {
 public:
  WaveState(const WaveLayout& L, const View* models) : L_(L), models_(models) {
    const size_t C = static_cast<size_t>(L.n_chains), S = static_cast<size_t>(L.stride), M = L.options.size();
    const size_t K = static_cast<size_t>(L.chunk);
    Arena a;
    o_.chain_model = a.take(C * sizeof(int));
    o_.chain_index = a.take(C * sizeof(int));
    o_.key = a.take(M * sizeof(std::uint64_t));
    o_.target_accept = a.take(M * sizeof(Real));
    o_.max_depth = a.take(M * sizeof(int));
    o_.max_delta_h = a.take(M * sizeof(Real));
    o_.step_size = a.take(M * sizeof(Real));
    o_.init_radius = a.take(M * sizeof(double));
    o_.init_tries = a.take(M * sizeof(int));
    o_.model_chain0 = a.take(M * sizeof(int));
    o_.model_chains = a.take(M * sizeof(int));
    o_.pooled = a.take(M * sizeof(int));
    o_.chees = a.take(M * sizeof(CheesState));
    o_.accept = a.take(C * sizeof(Real));
    o_.divergent = a.take(C * sizeof(int));
    o_.q = a.take(C * S * sizeof(Real));
    o_.g = a.take(C * S * sizeof(Real));
    o_.inv_metric = a.take(C * S * sizeof(Real));
    o_.mean = a.take(C * S * sizeof(Real));
    o_.m2 = a.take(C * S * sizeof(Real));
    o_.lp = a.take(C * sizeof(Real));
    o_.eps = a.take(C * sizeof(Real));
    o_.da = a.take(C * sizeof(DualAveraging<Real>));
    o_.welford_n = a.take(C * sizeof(int));
    o_.status = a.take(C * sizeof(int));
    o_.evals = a.take(C * sizeof(long long));
    o_.work = a.take(C * static_cast<size_t>(L.work_reals) * sizeof(Real));
    o_.scratch = a.take(C * static_cast<size_t>(L.scratch_reals) * sizeof(Real));
    for (int b = 0; b < 2; ++b) {
      o_.theta[b] = a.take(K * C * S * sizeof(Real));
      o_.stats[b] = a.take(K * C * kNumFloatStats * sizeof(Real));
      o_.ints[b] = a.take(K * C * kNumIntStats * sizeof(int));
    }
    bytes_ = a.used;
    base_ = static_cast<unsigned char*>(Memory::allocate(bytes_));
    const WaveTables t(L);
    std::vector<Real> accept, delta_h, step;
    t.fill_precision(accept, delta_h, step);
    upload(o_.chain_model, t.chain_model);
    upload(o_.chain_index, t.chain_index);
    upload(o_.key, t.key);
    upload(o_.target_accept, accept);
    upload(o_.max_depth, t.max_depth);
    upload(o_.max_delta_h, delta_h);
    upload(o_.step_size, step);
    upload(o_.init_radius, t.init_radius);
    upload(o_.init_tries, t.init_tries);
    upload(o_.model_chain0, t.model_chain0);
    upload(o_.model_chains, t.model_chains);
    upload(o_.pooled, t.pooled);
  }
  ~WaveState() { Memory::release(base_); }
  WaveState(const WaveState&) = delete;
  WaveState& operator=(const WaveState&) = delete;

  /// The view of every array, with draws going to buffer `slot` (0 or 1).
  WaveView<Real, View> ref(int slot) const {
    WaveView<Real, View> v;
    v.n_chains = L_.n_chains;
    v.stride = L_.stride;
    v.chunk = L_.chunk;
    v.models = models_;
    v.chain_model = at<int>(o_.chain_model);
    v.chain_index = at<int>(o_.chain_index);
    v.key = at<std::uint64_t>(o_.key);
    v.target_accept = at<Real>(o_.target_accept);
    v.max_depth = at<int>(o_.max_depth);
    v.max_delta_h = at<Real>(o_.max_delta_h);
    v.step_size = at<Real>(o_.step_size);
    v.init_radius = at<double>(o_.init_radius);
    v.init_tries = at<int>(o_.init_tries);
    v.model_chain0 = at<int>(o_.model_chain0);
    v.model_chains = at<int>(o_.model_chains);
    v.pooled = at<int>(o_.pooled);
    v.chees_options = L_.chees;
    v.chees = at<CheesState>(o_.chees);
    v.accept = at<Real>(o_.accept);
    v.divergent = at<int>(o_.divergent);
    v.q = at<Real>(o_.q);
    v.g = at<Real>(o_.g);
    v.inv_metric = at<Real>(o_.inv_metric);
    v.mean = at<Real>(o_.mean);
    v.m2 = at<Real>(o_.m2);
    v.lp = at<Real>(o_.lp);
    v.eps = at<Real>(o_.eps);
    v.da = at<DualAveraging<Real>>(o_.da);
    v.welford_n = at<int>(o_.welford_n);
    v.status = at<int>(o_.status);
    v.evals = at<long long>(o_.evals);
    v.work = at<Real>(o_.work);
    v.scratch = at<Real>(o_.scratch);
    v.work_stride = L_.work_reals;
    v.scratch_stride = L_.scratch_reals;
    v.draw_theta = at<Real>(o_.theta[slot]);
    v.draw_stats = at<Real>(o_.stats[slot]);
    v.draw_ints = at<int>(o_.ints[slot]);
    return v;
  }

  /// Status, step sizes, metrics and evaluation counts, on the host.
  void read(WaveBackend::State& s) const {
    const size_t C = static_cast<size_t>(L_.n_chains), CS = C * static_cast<size_t>(L_.stride);
    s.status = download<int>(o_.status, C);
    s.evals = download<long long>(o_.evals, C);
    s.eps = as_doubles(download<Real>(o_.eps, C));
    s.inv_metric = as_doubles(download<Real>(o_.inv_metric, CS));
  }
  void write_status(const std::vector<int>& status) { upload(o_.status, status); }
  /// Bytes of the block.
  size_t bytes() const { return bytes_; }

 private:
  struct Offsets {
    size_t chain_model, chain_index, key, target_accept, max_depth, max_delta_h, step_size, init_radius, init_tries;
    size_t model_chain0, model_chains, pooled, chees, accept, divergent;
    size_t q, g, inv_metric, mean, m2, lp, eps, da, welford_n, status, evals, work, scratch;
    size_t theta[2], stats[2], ints[2];
  };
  template <class T>
  T* at(size_t offset) const {
    return reinterpret_cast<T*>(base_ + offset);
  }
  template <class T>
  void upload(size_t offset, const std::vector<T>& v) {
    Memory::copy_in(base_ + offset, v.data(), v.size() * sizeof(T));
  }
  template <class T>
  std::vector<T> download(size_t offset, size_t n) const {
    std::vector<T> v(n);
    Memory::copy_out(v.data(), base_ + offset, n * sizeof(T));
    return v;
  }
  static std::vector<double> as_doubles(const std::vector<Real>& v) { return std::vector<double>(v.begin(), v.end()); }

  const WaveLayout& L_;
  const View* models_;
  Offsets o_{};
  size_t bytes_ = 0;
  unsigned char* base_ = nullptr;
};

}  // namespace herd
