// The CUDA wave backend: every model of a wave packed into one device arena, one thread per
// chain running the same HERD_HD chain functions as the CPU backend (wave.hpp), draws
// double-buffered through pinned host memory on a second stream.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_check.cuh"
#include "warp_lanes.cuh"
#include "herd/engine/device.hpp"
#include "herd/engine/wave.hpp"
#include "herd/engine/wave_tables.hpp"
#include "herd/model/model.hpp"

namespace herd {
namespace {

// Threads per block: two chains of a warp each, or 32 chains of a thread each. Small blocks
// spread a wave of a few thousand chains over every SM.
template <class Lanes>
constexpr int block_size() {
  return Lanes::kSerial ? 32 : 64;
}

// Lanes per chain -> the chain a thread works for.
template <class Lanes>
__device__ __forceinline__ int chain_of_thread() {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  return Lanes::kSerial ? t : t / 32;
}

template <class Real, class Lanes>
__global__ void init_kernel(WaveView<Real> w, double radius, int tries) {
  const int c = chain_of_thread<Lanes>();
  if (c < w.n_chains) wave_initialize(w, c, radius, tries, Lanes());
}

template <class Real, class Lanes>
__global__ void search_kernel(WaveView<Real> w, int window) {
  const int c = chain_of_thread<Lanes>();
  if (c < w.n_chains) wave_search(w, c, window, Lanes());
}

template <class Real, class Lanes>
__global__ void transitions_kernel(WaveView<Real> w, WaveWindow win) {
  const int c = chain_of_thread<Lanes>();
  if (c < w.n_chains) wave_transitions(w, c, win, Lanes());
}

// One cudaMalloc'd block; freed on destruction.
struct DeviceBlock {
  void* p = nullptr;
  DeviceBlock() = default;
  explicit DeviceBlock(size_t bytes) { HERD_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 1))); }
  DeviceBlock(const DeviceBlock&) = delete;
  DeviceBlock& operator=(const DeviceBlock&) = delete;
  DeviceBlock(DeviceBlock&& o) noexcept : p(o.p) { o.p = nullptr; }
  DeviceBlock& operator=(DeviceBlock&& o) noexcept {
    if (this != &o) {
      if (p) cudaFree(p);
      p = o.p;
      o.p = nullptr;
    }
    return *this;
  }
  ~DeviceBlock() {
    if (p) cudaFree(p);
  }
};

// Bump allocator over a byte count: first pass sizes, second pass hands out aligned offsets.
struct Arena {
  size_t used = 0;
  size_t take(size_t bytes) {
    const size_t at = (used + 255) / 256 * 256;
    used = at + bytes;
    return at;
  }
};

// Every model's arrays in one arena; the device ModelViews point into it.
template <class Real>
struct DeviceModels {
DeviceBlock block;
const ModelView<Real>* views = nullptr;
};

template <class Real>
DeviceModels<Real> pack_models(const std::vector<const Model*>& models) {
  DeviceModels<Real> dm;
  struct Piece {
    const void* src;
    size_t bytes, at;
  };
  std::vector<Piece> pieces;
  std::vector<ModelView<Real>> views;
  std::vector<std::vector<size_t>> where;  // per model: offsets of its 11 arrays
  Arena a;
  auto add = [&](const void* src, size_t bytes) {
    const size_t at = a.take(bytes);
    pieces.push_back({src, bytes, at});
    return at;
  };
  for (const Model* m : models) {
    const ModelData<Real>& d = m->storage<Real>();
    views.push_back(m->view<Real>());
    where.push_back({add(d.x.data(), d.x.size() * sizeof(Real)), add(d.y.data(), d.y.size() * sizeof(Real)),
                     add(d.z.data(), d.z.size() * sizeof(Real)), add(d.season.data(), d.season.size() * sizeof(Real)),
                     add(d.effect_kind.data(), d.effect_kind.size() * sizeof(int)),
                     add(d.group.data(), d.group.size() * sizeof(int)),
                     add(d.multiplier.data(), d.multiplier.size() * sizeof(Real)),
                     add(d.lift.data(), d.lift.size() * sizeof(LiftView<Real>)),
                     add(d.effect_prior.data(), d.effect_prior.size() * sizeof(PriorView<Real>)),
                     add(d.support.data(), d.support.size() * sizeof(SupportView<Real>)),
                     add(d.prior.data(), d.prior.size() * sizeof(PriorView<Real>))});
  }
  const size_t views_at = a.take(views.size() * sizeof(ModelView<Real>));
  std::vector<unsigned char> host(a.used, 0);
  for (const Piece& p : pieces)
    if (p.bytes) std::memcpy(host.data() + p.at, p.src, p.bytes);
  dm.block = DeviceBlock(a.used);
  auto* base = static_cast<unsigned char*>(dm.block.p);
  for (size_t i = 0; i < views.size(); ++i) {
    ModelView<Real>& v = views[i];
    const auto& o = where[i];
    v.x = reinterpret_cast<const Real*>(base + o[0]);
    v.y = reinterpret_cast<const Real*>(base + o[1]);
    v.z = reinterpret_cast<const Real*>(base + o[2]);
    v.season = reinterpret_cast<const Real*>(base + o[3]);
    v.effect_kind = reinterpret_cast<const int*>(base + o[4]);
    v.group = reinterpret_cast<const int*>(base + o[5]);
    v.multiplier = reinterpret_cast<const Real*>(base + o[6]);
    v.lift = reinterpret_cast<const LiftView<Real>*>(base + o[7]);
    v.effect_prior = reinterpret_cast<const PriorView<Real>*>(base + o[8]);
    v.support = reinterpret_cast<const SupportView<Real>*>(base + o[9]);
    v.prior = reinterpret_cast<const PriorView<Real>*>(base + o[10]);
  }
  std::memcpy(host.data() + views_at, views.data(), views.size() * sizeof(ModelView<Real>));
  dm.views = reinterpret_cast<const ModelView<Real>*>(base + views_at);
  HERD_CUDA_CHECK(cudaMemcpy(dm.block.p, host.data(), a.used, cudaMemcpyHostToDevice));
  return dm;
}


template <class Real, class Lanes>
class CudaWaveBackend : public WaveBackend {
 public:
  explicit CudaWaveBackend(const WaveLayout& L) : L_(L), t_(L) {
    if (cuda_device_count() == 0) throw std::runtime_error("device cuda: no CUDA device visible");
    HERD_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
    HERD_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
    for (int b = 0; b < 2; ++b) {
      HERD_CUDA_CHECK(cudaEventCreateWithFlags(&computed_[b], cudaEventDisableTiming));
      HERD_CUDA_CHECK(cudaEventCreateWithFlags(&copied_[b], cudaEventDisableTiming));
    }
    // The private working set of a thread (NUTS checkpoints) lives in local memory.
    HERD_CUDA_CHECK(cudaDeviceSetLimit(cudaLimitStackSize, 16384));
    data_ = pack_models<Real>(L.models);
    models_ = data_.views;
    allocate_state();
  }

  ~CudaWaveBackend() override {
    cudaStreamSynchronize(compute_);
    cudaStreamSynchronize(copy_);
    for (int b = 0; b < 2; ++b) {
      cudaEventDestroy(computed_[b]);
      cudaEventDestroy(copied_[b]);
      if (host_theta_[b]) cudaFreeHost(host_theta_[b]);
      if (host_stats_[b]) cudaFreeHost(host_stats_[b]);
      if (host_ints_[b]) cudaFreeHost(host_ints_[b]);
    }
    cudaStreamDestroy(compute_);
    cudaStreamDestroy(copy_);
  }

  void initialize(double radius, int tries) override {
    init_kernel<Real, Lanes><<<blocks(), block_size<Lanes>(), 0, compute_>>>(view(0), radius, tries);
    HERD_CUDA_CHECK(cudaGetLastError());
  }
  void search(int window) override {
    search_kernel<Real, Lanes><<<blocks(), block_size<Lanes>(), 0, compute_>>>(view(0), window);
    HERD_CUDA_CHECK(cudaGetLastError());
  }
  void transitions(const WaveWindow& win, int slot) override {
    transitions_kernel<Real, Lanes><<<blocks(), block_size<Lanes>(), 0, compute_>>>(view(slot), win);
    HERD_CUDA_CHECK(cudaGetLastError());
    if (win.last < win.warmup) return;
    // Draws leave on the copy stream as soon as this chunk is done, while the next one runs.
    const size_t rows = static_cast<size_t>(win.last - win.first + 1) * static_cast<size_t>(L_.n_chains);
    HERD_CUDA_CHECK(cudaEventRecord(computed_[slot], compute_));
    HERD_CUDA_CHECK(cudaStreamWaitEvent(copy_, computed_[slot], 0));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_theta_[slot], theta_[slot], rows * L_.stride * sizeof(Real),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_stats_[slot], stats_[slot], rows * kNumFloatStats * sizeof(Real),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_ints_[slot], ints_[slot], rows * kNumIntStats * sizeof(int),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaEventRecord(copied_[slot], copy_));
  }
  void fetch(int slot, int count, const double** theta, const double** stats, const int** ints) override {
    HERD_CUDA_CHECK(cudaEventSynchronize(copied_[slot]));
    const size_t rows = static_cast<size_t>(count) * static_cast<size_t>(L_.n_chains);
    *theta = as_double(host_theta_[slot], rows * static_cast<size_t>(L_.stride), conv_theta_);
    *stats = as_double(host_stats_[slot], rows * kNumFloatStats, conv_stats_);
    *ints = host_ints_[slot];
  }
  void read_state(State& s) override {
    HERD_CUDA_CHECK(cudaStreamSynchronize(compute_));
    const size_t C = static_cast<size_t>(L_.n_chains), CS = C * static_cast<size_t>(L_.stride);
    s.status = download<int>(status_, C);
    s.welford_n = download<int>(welford_n_, C);
    s.evals = download<long long>(evals_, C);
    s.mean = to_double(download<Real>(mean_, CS));
    s.m2 = to_double(download<Real>(m2_, CS));
    s.eps = to_double(download<Real>(eps_, C));
    s.inv_metric = to_double(download<Real>(inv_metric_, CS));
  }
  void write_metric(const std::vector<double>& inv_metric) override {
    HERD_CUDA_CHECK(cudaStreamSynchronize(compute_));
    const std::vector<Real> m(inv_metric.begin(), inv_metric.end());
    const size_t C = static_cast<size_t>(L_.n_chains), CS = C * static_cast<size_t>(L_.stride);
    HERD_CUDA_CHECK(cudaMemcpy(inv_metric_, m.data(), CS * sizeof(Real), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemset(mean_, 0, CS * sizeof(Real)));
    HERD_CUDA_CHECK(cudaMemset(m2_, 0, CS * sizeof(Real)));
    HERD_CUDA_CHECK(cudaMemset(welford_n_, 0, C * sizeof(int)));
  }
  void write_status(const std::vector<int>& status) override {
    HERD_CUDA_CHECK(cudaStreamSynchronize(compute_));
    HERD_CUDA_CHECK(cudaMemcpy(status_, status.data(), status.size() * sizeof(int), cudaMemcpyHostToDevice));
  }
  std::string name() const override { return Lanes::kSerial ? "cuda (thread per chain)" : "cuda (warp per chain)"; }

 private:
  int blocks() const {
    const long long threads = static_cast<long long>(L_.n_chains) * (Lanes::kSerial ? 1 : 32);
    return static_cast<int>((threads + block_size<Lanes>() - 1) / block_size<Lanes>());
  }

  template <class T>
  std::vector<T> download(const T* p, size_t n) {
    std::vector<T> v(n);
    HERD_CUDA_CHECK(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }
  static std::vector<double> to_double(const std::vector<Real>& v) { return std::vector<double>(v.begin(), v.end()); }
  static const double* as_double(const Real* p, size_t n, std::vector<double>& conv) {
    if constexpr (std::is_same_v<Real, double>) {
      (void)n;
      (void)conv;
      return p;
    } else {
      conv.assign(p, p + n);
      return conv.data();
    }
  }

  void allocate_state() {
    const size_t C = static_cast<size_t>(L_.n_chains), S = static_cast<size_t>(L_.stride);
    const size_t M = L_.models.size(), K = static_cast<size_t>(L_.chunk);
    Arena a;
    const size_t o_cm = a.take(C * sizeof(int)), o_ci = a.take(C * sizeof(int)), o_key = a.take(M * sizeof(std::uint64_t)),
                 o_acc = a.take(M * sizeof(Real)), o_md = a.take(M * sizeof(int)), o_dh = a.take(M * sizeof(Real)), o_ss = a.take(M * sizeof(Real)),
                 o_q = a.take(C * S * sizeof(Real)), o_g = a.take(C * S * sizeof(Real)),
                 o_im = a.take(C * S * sizeof(Real)), o_mean = a.take(C * S * sizeof(Real)),
                 o_m2 = a.take(C * S * sizeof(Real)), o_lp = a.take(C * sizeof(Real)), o_eps = a.take(C * sizeof(Real)),
                 o_da = a.take(C * sizeof(DualAveraging<Real>)), o_wn = a.take(C * sizeof(int)),
                 o_st = a.take(C * sizeof(int)), o_ev = a.take(C * sizeof(long long)),
                 o_work = a.take(C * static_cast<size_t>(L_.work_reals) * sizeof(Real)),
                 o_scr = a.take(C * static_cast<size_t>(L_.scratch_reals) * sizeof(Real));
    size_t o_th[2], o_fs[2], o_is[2];
    for (int b = 0; b < 2; ++b) {
      o_th[b] = a.take(K * C * S * sizeof(Real));
      o_fs[b] = a.take(K * C * kNumFloatStats * sizeof(Real));
      o_is[b] = a.take(K * C * kNumIntStats * sizeof(int));
    }
    state_ = DeviceBlock(a.used);
    auto* base = static_cast<unsigned char*>(state_.p);
    HERD_CUDA_CHECK(cudaMemset(state_.p, 0, a.used));
    auto at = [&](size_t o) { return static_cast<void*>(base + o); };
    chain_model_ = static_cast<int*>(at(o_cm));
    chain_index_ = static_cast<int*>(at(o_ci));
    key_ = static_cast<std::uint64_t*>(at(o_key));
    target_accept_ = static_cast<Real*>(at(o_acc));
    max_depth_ = static_cast<int*>(at(o_md));
    max_delta_h_ = static_cast<Real*>(at(o_dh));
    step_size_ = static_cast<Real*>(at(o_ss));
    q_ = static_cast<Real*>(at(o_q));
    g_ = static_cast<Real*>(at(o_g));
    inv_metric_ = static_cast<Real*>(at(o_im));
    mean_ = static_cast<Real*>(at(o_mean));
    m2_ = static_cast<Real*>(at(o_m2));
    lp_ = static_cast<Real*>(at(o_lp));
    eps_ = static_cast<Real*>(at(o_eps));
    da_ = static_cast<DualAveraging<Real>*>(at(o_da));
    welford_n_ = static_cast<int*>(at(o_wn));
    status_ = static_cast<int*>(at(o_st));
    evals_ = static_cast<long long*>(at(o_ev));
    work_ = static_cast<Real*>(at(o_work));
    scratch_ = static_cast<Real*>(at(o_scr));
    for (int b = 0; b < 2; ++b) {
      theta_[b] = static_cast<Real*>(at(o_th[b]));
      stats_[b] = static_cast<Real*>(at(o_fs[b]));
      ints_[b] = static_cast<int*>(at(o_is[b]));
      HERD_CUDA_CHECK(cudaMallocHost(&host_theta_[b], K * C * S * sizeof(Real)));
      HERD_CUDA_CHECK(cudaMallocHost(&host_stats_[b], K * C * kNumFloatStats * sizeof(Real)));
      HERD_CUDA_CHECK(cudaMallocHost(&host_ints_[b], K * C * kNumIntStats * sizeof(int)));
    }
    std::vector<Real> acc, dh, ss;
    t_.fill_precision(acc, dh, ss);
    HERD_CUDA_CHECK(cudaMemcpy(chain_model_, t_.chain_model.data(), C * sizeof(int), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(chain_index_, t_.chain_index.data(), C * sizeof(int), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(key_, t_.key.data(), M * sizeof(std::uint64_t), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(target_accept_, acc.data(), M * sizeof(Real), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(max_depth_, t_.max_depth.data(), M * sizeof(int), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(max_delta_h_, dh.data(), M * sizeof(Real), cudaMemcpyHostToDevice));
    HERD_CUDA_CHECK(cudaMemcpy(step_size_, ss.data(), M * sizeof(Real), cudaMemcpyHostToDevice));
  }

  WaveView<Real> view(int slot) const {
    WaveView<Real> v;
    v.n_chains = L_.n_chains;
    v.stride = L_.stride;
    v.chunk = L_.chunk;
    v.models = models_;
    v.chain_model = chain_model_;
    v.chain_index = chain_index_;
    v.key = key_;
    v.target_accept = target_accept_;
    v.max_depth = max_depth_;
    v.max_delta_h = max_delta_h_;
    v.step_size = step_size_;
    v.q = q_;
    v.g = g_;
    v.inv_metric = inv_metric_;
    v.mean = mean_;
    v.m2 = m2_;
    v.lp = lp_;
    v.eps = eps_;
    v.da = da_;
    v.welford_n = welford_n_;
    v.status = status_;
    v.evals = evals_;
    v.work = work_;
    v.scratch = scratch_;
    v.work_stride = L_.work_reals;
    v.scratch_stride = L_.scratch_reals;
    v.draw_theta = theta_[slot];
    v.draw_stats = stats_[slot];
    v.draw_ints = ints_[slot];
    return v;
  }

  const WaveLayout& L_;
  WaveTables t_;
  cudaStream_t compute_ = nullptr, copy_ = nullptr;
  cudaEvent_t computed_[2] = {nullptr, nullptr}, copied_[2] = {nullptr, nullptr};
  DeviceModels<Real> data_;
  DeviceBlock state_;
  const ModelView<Real>* models_ = nullptr;
  int *chain_model_ = nullptr, *chain_index_ = nullptr, *max_depth_ = nullptr, *welford_n_ = nullptr,
      *status_ = nullptr;
  std::uint64_t* key_ = nullptr;
  Real *target_accept_ = nullptr, *max_delta_h_ = nullptr, *step_size_ = nullptr;
  Real *q_ = nullptr, *g_ = nullptr, *inv_metric_ = nullptr, *mean_ = nullptr, *m2_ = nullptr, *lp_ = nullptr,
       *eps_ = nullptr, *work_ = nullptr, *scratch_ = nullptr;
  DualAveraging<Real>* da_ = nullptr;
  long long* evals_ = nullptr;
  Real* theta_[2] = {nullptr, nullptr};
  Real* stats_[2] = {nullptr, nullptr};
  int* ints_[2] = {nullptr, nullptr};
  Real* host_theta_[2] = {nullptr, nullptr};
  Real* host_stats_[2] = {nullptr, nullptr};
  int* host_ints_[2] = {nullptr, nullptr};
  std::vector<double> conv_theta_, conv_stats_;
};

template <class Real, class Lanes>
__global__ void batch_grad_kernel(const ModelView<Real>* models, int n_models, int points, int stride, const Real* theta,
                                  Real* grad, Real* lp, Real* scratch, long long scratch_stride) {
  const long long t = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long i = Lanes::kSerial ? t : t / 32;
  if (i >= static_cast<long long>(n_models) * points) return;
  const ModelView<Real> m = models[i / points];
  const Lanes lanes;
  const Real v = log_density_grad(m, theta + i * stride, grad + i * stride, scratch + i * scratch_stride, lanes);
  if (lanes.leader()) lp[i] = v;
}

template <class Real, class Lanes>
CudaGradient gradients(const std::vector<const Model*>& models, int points, const std::vector<double>& theta,
                       int repeats) {
  if (cuda_device_count() == 0) throw std::runtime_error("no CUDA device visible");
  int stride = 0, scratch = 1;
  for (const Model* m : models) {
    stride = std::max(stride, m->dim());
    scratch = std::max(scratch, m->scratch_size());
  }
  const size_t n = models.size() * static_cast<size_t>(points);
  if (theta.size() != n * static_cast<size_t>(stride)) throw std::invalid_argument("theta is [model][point][largest dim]");
  const DeviceModels<Real> dm = pack_models<Real>(models);
  const std::vector<Real> th(theta.begin(), theta.end());
  DeviceBlock d_theta(th.size() * sizeof(Real)), d_grad(th.size() * sizeof(Real)), d_lp(n * sizeof(Real)),
      d_scratch(n * static_cast<size_t>(scratch) * sizeof(Real));
  HERD_CUDA_CHECK(cudaMemcpy(d_theta.p, th.data(), th.size() * sizeof(Real), cudaMemcpyHostToDevice));
  HERD_CUDA_CHECK(cudaMemset(d_grad.p, 0, th.size() * sizeof(Real)));
  const int block = 64;
  const int blocks = static_cast<int>((n * (Lanes::kSerial ? 1 : 32) + block - 1) / block);
  auto launch = [&]() {
    batch_grad_kernel<Real, Lanes><<<blocks, block>>>(dm.views, static_cast<int>(models.size()), points, stride,
                                               static_cast<const Real*>(d_theta.p), static_cast<Real*>(d_grad.p),
                                               static_cast<Real*>(d_lp.p), static_cast<Real*>(d_scratch.p), scratch);
    HERD_CUDA_CHECK(cudaGetLastError());
  };
  launch();  // warm-up, also the result when repeats == 0
  HERD_CUDA_CHECK(cudaDeviceSynchronize());
  cudaEvent_t t0, t1;
  HERD_CUDA_CHECK(cudaEventCreate(&t0));
  HERD_CUDA_CHECK(cudaEventCreate(&t1));
  HERD_CUDA_CHECK(cudaEventRecord(t0));
  for (int r = 0; r < repeats; ++r) launch();
  HERD_CUDA_CHECK(cudaEventRecord(t1));
  HERD_CUDA_CHECK(cudaEventSynchronize(t1));
  float ms = 0;
  HERD_CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  CudaGradient out;
  out.seconds_per_repeat = repeats > 0 ? static_cast<double>(ms) / 1000.0 / repeats : 0.0;
  std::vector<Real> g(th.size()), l(n);
  HERD_CUDA_CHECK(cudaMemcpy(g.data(), d_grad.p, g.size() * sizeof(Real), cudaMemcpyDeviceToHost));
  HERD_CUDA_CHECK(cudaMemcpy(l.data(), d_lp.p, l.size() * sizeof(Real), cudaMemcpyDeviceToHost));
  out.grad.assign(g.begin(), g.end());
  out.lp.assign(l.begin(), l.end());
  return out;
}

}  // namespace

CudaGradient cuda_log_density_grad(const std::vector<const Model*>& models, bool single_precision, int points,
                                   const std::vector<double>& theta, int repeats, int lanes) {
  if (lanes != 1 && lanes != 32) throw std::invalid_argument("lanes per point: 1 or 32");
  if (lanes == 1)
    return single_precision ? gradients<float, SerialLanes>(models, points, theta, repeats)
                            : gradients<double, SerialLanes>(models, points, theta, repeats);
  return single_precision ? gradients<float, WarpLanes>(models, points, theta, repeats)
                          : gradients<double, WarpLanes>(models, points, theta, repeats);
}

std::unique_ptr<WaveBackend> make_cuda_wave_backend(const WaveLayout& layout, bool single_precision, int lanes) {
  if (lanes != 1 && lanes != 32) throw std::invalid_argument("lanes per chain: 1 or 32");
  if (lanes == 1) {
    if (single_precision) return std::make_unique<CudaWaveBackend<float, SerialLanes>>(layout);
    return std::make_unique<CudaWaveBackend<double, SerialLanes>>(layout);
  }
  if (single_precision) return std::make_unique<CudaWaveBackend<float, WarpLanes>>(layout);
  return std::make_unique<CudaWaveBackend<double, WarpLanes>>(layout);
}

long long cuda_free_memory() {
  size_t free_bytes = 0, total = 0;
  HERD_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return static_cast<long long>(free_bytes);
}

}  // namespace herd
