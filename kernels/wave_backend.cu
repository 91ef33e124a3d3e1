// The CUDA wave backend: every model of a wave packed into one device arena, the wave's
// state a WaveState in device memory (the host backend's type over other memory), a warp
// (or a thread) per chain running the same HERD_HD chain functions as the CPU backend
// (wave.hpp), draws double-buffered through pinned host memory on a second stream.
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
#include "herd/engine/wave_launch.hpp"
#include "herd/engine/wave_state.hpp"
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

// A chain op (wave_ops) on every chain: a warp or a thread each.
template <class Real, class Lanes, class Op>
__global__ void chain_kernel(WaveView<Real> w, Op op) {
  const int c = chain_of_thread<Lanes>();
  if (c < w.n_chains) op(w, c, Lanes());
}

// A model op on every model: a thread each (the ops are serial reductions over a model's
// chains, small next to its transitions).
template <class Real, class Op>
__global__ void model_kernel(WaveView<Real> w, int n_models, Op op) {
  const int m = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (m < n_models) op(w, m);
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

// Device memory for the wave's state (wave_state.hpp): one zeroed cudaMalloc'd block; copies
// are synchronous, made when the backend has waited for its streams.
struct DeviceMemory {
  static void* allocate(size_t bytes) {
    void* p = nullptr;
    HERD_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 1)));
    HERD_CUDA_CHECK(cudaMemset(p, 0, std::max<size_t>(bytes, 1)));
    return p;
  }
  static void release(void* p) {
    if (p) cudaFree(p);
  }
  static void copy_in(void* dst, const void* src, size_t bytes) {
    if (bytes) HERD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }
  static void copy_out(void* dst, const void* src, size_t bytes) {
    if (bytes) HERD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
};

// Every model's block (ModelData) and then their views, rebased onto it, in one device block.
template <class Real>
struct DeviceModels {
  DeviceBlock block;
  const ModelView<Real>* views = nullptr;
};

template <class Real>
DeviceModels<Real> pack_models(const std::vector<const Model*>& models) {
  DeviceModels<Real> dm;
  Arena a;
  std::vector<size_t> at;
  for (const Model* m : models) at.push_back(a.take(m->storage<Real>().bytes()));
  const size_t views_at = a.take(models.size() * sizeof(ModelView<Real>));
  dm.block = DeviceBlock(a.used);
  auto* base = static_cast<unsigned char*>(dm.block.p);
  std::vector<unsigned char> host(a.used, 0);
  std::vector<ModelView<Real>> views;
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelData<Real>& d = models[i]->storage<Real>();
    std::memcpy(host.data() + at[i], d.block(), d.bytes());
    views.push_back(d.rebase(base + at[i]));
  }
  std::memcpy(host.data() + views_at, views.data(), views.size() * sizeof(ModelView<Real>));
  dm.views = reinterpret_cast<const ModelView<Real>*>(base + views_at);
  HERD_CUDA_CHECK(cudaMemcpy(dm.block.p, host.data(), a.used, cudaMemcpyHostToDevice));
  return dm;
}

template <class Real, class Lanes>
class CudaWaveBackend : public WaveBackend {
 public:
  explicit CudaWaveBackend(const WaveLayout& L)
      : L_(with_device(L)), data_(pack_models<Real>(L.models)), state_(L, data_.views) {
    HERD_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
    HERD_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
    for (int b = 0; b < 2; ++b) {
      HERD_CUDA_CHECK(cudaEventCreateWithFlags(&computed_[b], cudaEventDisableTiming));
      HERD_CUDA_CHECK(cudaEventCreateWithFlags(&copied_[b], cudaEventDisableTiming));
    }
    // The private working set of a thread (NUTS checkpoints) lives in local memory.
    HERD_CUDA_CHECK(cudaDeviceSetLimit(cudaLimitStackSize, 16384));
    const size_t rows = static_cast<size_t>(L.chunk) * static_cast<size_t>(L.n_chains);
    for (int b = 0; b < 2; ++b) {
      HERD_CUDA_CHECK(cudaMallocHost(&host_theta_[b], rows * L.stride * sizeof(Real)));
      HERD_CUDA_CHECK(cudaMallocHost(&host_stats_[b], rows * kNumFloatStats * sizeof(Real)));
      HERD_CUDA_CHECK(cudaMallocHost(&host_ints_[b], rows * kNumIntStats * sizeof(int)));
    }
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

  void run(const WaveStep& step) override {
    const WaveView<Real> v = state_.ref(step.slot);
    const int M = static_cast<int>(L_.options.size());
    launch_step(
        step, L_.options[0].algorithm == Algorithm::kChees,
        [&](const auto& op) {
          chain_kernel<Real, Lanes><<<blocks(), block_size<Lanes>(), 0, compute_>>>(v, op);
          HERD_CUDA_CHECK(cudaGetLastError());
        },
        [&](const auto& op) {
          model_kernel<Real><<<(M + 63) / 64, 64, 0, compute_>>>(v, M, op);
          HERD_CUDA_CHECK(cudaGetLastError());
        });
    if (step.kind != WaveStepKind::kSample) return;
    // Draws leave on the copy stream as soon as this chunk is done, while the next one runs.
    const int slot = step.slot;
    const size_t rows = static_cast<size_t>(step.win.last - step.win.first + 1) * static_cast<size_t>(L_.n_chains);
    HERD_CUDA_CHECK(cudaEventRecord(computed_[slot], compute_));
    HERD_CUDA_CHECK(cudaStreamWaitEvent(copy_, computed_[slot], 0));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_theta_[slot], v.draw_theta, rows * L_.stride * sizeof(Real),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_stats_[slot], v.draw_stats, rows * kNumFloatStats * sizeof(Real),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaMemcpyAsync(host_ints_[slot], v.draw_ints, rows * kNumIntStats * sizeof(int),
                                    cudaMemcpyDeviceToHost, copy_));
    HERD_CUDA_CHECK(cudaEventRecord(copied_[slot], copy_));
  }
  void fetch(int slot, int count, const double** theta, const double** stats, const int** ints) override {
    HERD_CUDA_CHECK(cudaEventSynchronize(copied_[slot]));
    const size_t rows = static_cast<size_t>(count) * static_cast<size_t>(L_.n_chains);
    *theta = as_host_doubles(host_theta_[slot], rows * static_cast<size_t>(L_.stride), conv_theta_);
    *stats = as_host_doubles(host_stats_[slot], rows * kNumFloatStats, conv_stats_);
    *ints = host_ints_[slot];
  }
  void read_state(State& s) override {
    HERD_CUDA_CHECK(cudaStreamSynchronize(compute_));
    state_.read(s);
  }
  void write_status(const std::vector<int>& status) override {
    HERD_CUDA_CHECK(cudaStreamSynchronize(compute_));
    state_.write_status(status);
  }
  std::string name() const override { return Lanes::kSerial ? "cuda (thread per chain)" : "cuda (warp per chain)"; }

 private:
  static const WaveLayout& with_device(const WaveLayout& L) {
    if (cuda_device_count() == 0) throw std::runtime_error("device cuda: no CUDA device visible");
    return L;
  }
  int blocks() const {
    const long long threads = static_cast<long long>(L_.n_chains) * (Lanes::kSerial ? 1 : 32);
    return static_cast<int>((threads + block_size<Lanes>() - 1) / block_size<Lanes>());
  }

  const WaveLayout& L_;
  DeviceModels<Real> data_;
  WaveState<Real, DeviceMemory> state_;
  cudaStream_t compute_ = nullptr, copy_ = nullptr;
  cudaEvent_t computed_[2] = {nullptr, nullptr}, copied_[2] = {nullptr, nullptr};
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
