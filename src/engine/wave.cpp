// The host side of a wave (window orchestration, metric pooling, chunked draws) and the
// CPU backend. See wave.hpp.
#include "herd/engine/wave.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <stdexcept>

#include "herd/engine/host_wave_backend.hpp"
#include "herd/model/model.hpp"

namespace herd {

WaveLayout make_wave_layout(const std::vector<WaveShape>& shapes, const std::vector<SamplerOptions>& options,
                            int chunk) {
  if (shapes.empty() || shapes.size() != options.size()) throw std::invalid_argument("a wave needs models and options");
  WaveLayout L;
  L.options = options;
  L.chunk = std::max(1, std::min(chunk, std::max(1, options[0].draws)));
  int depth = 1;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (options[i].warmup != options[0].warmup || options[i].draws != options[0].draws)
      throw std::invalid_argument("the models of a wave share their warmup and draws");
    L.model_names.push_back(shapes[i].name);
    L.dims.push_back(shapes[i].dim);
    L.stride = std::max(L.stride, shapes[i].dim);
    L.scratch_reals = std::max(L.scratch_reals, std::max(1, shapes[i].scratch));
    depth = std::max(depth, clamped_depth(options[i]));
    L.chain_offset.push_back(L.n_chains);
    L.n_chains += options[i].chains;
  }
  L.work_reals = std::max(nuts_workspace_size(L.stride, depth), 3 * L.stride);
  return L;
}

WaveLayout make_wave_layout(const std::vector<const Model*>& models, const std::vector<SamplerOptions>& options,
                            int chunk) {
  std::vector<WaveShape> shapes;
  for (const Model* m : models) shapes.push_back({m->spec().name, m->dim(), m->scratch_size()});
  WaveLayout L = make_wave_layout(shapes, options, chunk);
  L.models = models;
  return L;
}

namespace {

// The metric a model's chains sample with after a window, or "" and an error.
std::string pooled_metric(const WaveLayout& L, size_t m, const WaveBackend::State& s, std::vector<double>& metric) {
  const size_t n = static_cast<size_t>(L.dims[m]), stride = static_cast<size_t>(L.stride);
  const int first = L.chain_offset[m], chains = L.options[m].chains;
  struct Sums {
    double welford_n;
    std::vector<double> mean, m2;
  };
  std::vector<Sums> sums;
  for (int c = first; c < first + chains; ++c) {
    const size_t row = static_cast<size_t>(c) * stride;
    sums.push_back({static_cast<double>(s.welford_n[static_cast<size_t>(c)]),
                    std::vector<double>(s.mean.begin() + static_cast<long>(row), s.mean.begin() + static_cast<long>(row + n)),
                    std::vector<double>(s.m2.begin() + static_cast<long>(row), s.m2.begin() + static_cast<long>(row + n))});
  }
  std::vector<double> pooled;
  if (L.options[m].pooled_metric) pooled = sampler_detail::pooled_variance(sums, n);
  for (int k = 0; k < chains; ++k) {
    const std::vector<double> var =
        L.options[m].pooled_metric ? pooled : sampler_detail::regularized_variance(sums[static_cast<size_t>(k)].welford_n,
                                                                                   sums[static_cast<size_t>(k)].m2);
    for (size_t i = 0; i < n; ++i) {
      if (!(std::isfinite(var[i]) && var[i] > 0)) return "not finite";
      metric[static_cast<size_t>(first + k) * stride + i] = var[i];
    }
  }
  return "";
}

std::string chain_error(int status, int chain, const SamplerOptions& o) {
  if (status == kWaveInitFailed)
    return "chain " + std::to_string(chain) + " found no initial point with a finite log density and gradient in " +
           std::to_string(o.init_tries) + " tries (uniform(-" + std::to_string(o.init_radius) + ", " +
           std::to_string(o.init_radius) + ") on the unconstrained scale)";
  if (status == kWaveSearchFailed)
    return "chain " + std::to_string(chain) +
           ": the step-size search ran away (step size beyond 1e7 or 0); the posterior may be improper";
  return "";
}

}  // namespace

std::vector<WaveOutcome> run_wave(WaveBackend& backend, const WaveLayout& L) {
  const auto t0 = std::chrono::steady_clock::now();
  // HERD_WAVE_TRACE=1: each launch's iterations and the time so far, on stderr (benchmarks).
  const bool trace = std::getenv("HERD_WAVE_TRACE") != nullptr;
  auto note = [&](const char* what, int a, int b) {
    if (trace)
      std::fprintf(stderr, "[wave %s, %d chains] %s %d..%d at %.2f s\n", backend.name().c_str(), L.n_chains, what, a,
                   b, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  const size_t M = L.dims.size(), stride = static_cast<size_t>(L.stride);
  const int W = L.options[0].warmup, D = L.options[0].draws;
  std::vector<WaveOutcome> out(M);
  for (size_t m = 0; m < M; ++m) {
    const SamplerOptions& o = L.options[m];
    if (o.max_depth < 1 || o.max_depth > kMaxTreeDepth)
      out[m].error = "max_depth must be in 1.." + std::to_string(kMaxTreeDepth);
    if (o.algorithm != Algorithm::kNuts)
      out[m].error = std::string("algorithm ") + to_string(o.algorithm) + ": a wave runs NUTS only";
  }

  WaveBackend::State s;
  // Failed models stop their chains; the rest of the wave goes on.
  auto sync_errors = [&]() {
    backend.read_state(s);
    bool stop_any = false;
    std::vector<int> status = s.status;
    for (size_t m = 0; m < M; ++m) {
      const int first = L.chain_offset[m];
      for (int k = 0; k < L.options[m].chains; ++k) {
        const int st = s.status[static_cast<size_t>(first + k)];
        if (out[m].error.empty() && st != kWaveOk && st != kWaveStopped)
          out[m].error = chain_error(st, k, L.options[m]);
      }
      if (!out[m].error.empty())
        for (int k = 0; k < L.options[m].chains; ++k) {
          int& st = status[static_cast<size_t>(first + k)];
          if (st == kWaveOk) {
            st = kWaveStopped;
            stop_any = true;
          }
        }
    }
    if (stop_any) backend.write_status(status);
  };
  sync_errors();  // models refused above
  backend.initialize();
  sync_errors();

  const WindowSchedule schedule(W);
  if (W > 0) {
    backend.search(0);
    sync_errors();
  }
  std::vector<int> stops = schedule.window_ends();
  if (W > 0) stops.push_back(W - 1);
  std::sort(stops.begin(), stops.end());
  stops.erase(std::unique(stops.begin(), stops.end()), stops.end());
  const int lo = schedule.adapts_metric() ? schedule.init_buffer() : 0;
  const int hi = schedule.adapts_metric() ? W - schedule.term_buffer() : 0;

  int it = 0, window = 0;
  std::vector<double> metric;
  for (int stop : stops) {
    if (stop < it) continue;
    backend.transitions(WaveWindow{it, stop, W, lo, hi, 0}, 0);
    if (trace) backend.read_state(s);  // waits, so the time below is the window's
    note("warmup", it, stop);
    it = stop + 1;
    if (!schedule.ends_window(stop)) continue;
    backend.read_state(s);
    metric = s.inv_metric;
    for (size_t m = 0; m < M; ++m)
      if (out[m].error.empty() && !pooled_metric(L, m, s, metric).empty())
        out[m].error = "the adapted metric is not finite and positive (window ending at iteration " +
                       std::to_string(stop) + ")";
    backend.write_metric(metric);
    sync_errors();
    backend.search(++window);
    sync_errors();
  }

  for (size_t m = 0; m < M; ++m) {
    out[m].fit.dim = L.dims[m];
    out[m].fit.draws = D;
    out[m].fit.chains.resize(static_cast<size_t>(L.options[m].chains));
    for (auto& d : out[m].fit.chains) d.reserve(static_cast<size_t>(D), static_cast<size_t>(out[m].fit.dim));
  }
  // Sampling in chunks, double-buffered: chunk k runs while chunk k - 1's draws are copied
  // out and appended here.
  auto deliver = [&](int slot, int count) {
    const double *theta = nullptr, *stats = nullptr;
    const int* ints = nullptr;
    backend.fetch(slot, count, &theta, &stats, &ints);
    for (size_t m = 0; m < M; ++m) {
      if (!out[m].error.empty()) continue;
      const size_t n = static_cast<size_t>(out[m].fit.dim);
      for (int k = 0; k < L.options[m].chains; ++k) {
        const size_t c = static_cast<size_t>(L.chain_offset[m] + k);
        ChainDraws& d = out[m].fit.chains[static_cast<size_t>(k)];
        for (int j = 0; j < count; ++j) {
          const size_t slot_row = static_cast<size_t>(j) * static_cast<size_t>(L.n_chains) + c;
          const double* f = stats + slot_row * kNumFloatStats;
          const int* is = ints + slot_row * kNumIntStats;
          d.append(theta + slot_row * stride, n, f[kStatLp], f[kStatAccept], f[kStatStep], f[kStatEnergy],
                   is[kStatDepth], is[kStatLeapfrog], is[kStatDivergent] != 0);
        }
      }
    }
  };
  int prev_slot = -1, prev_count = 0, k = 0;
  for (int first = W; first < W + D; first += L.chunk, ++k) {
    const int last = std::min(W + D, first + L.chunk) - 1;
    backend.transitions(WaveWindow{first, last, W, lo, hi, first}, k % 2);
    if (prev_slot >= 0) deliver(prev_slot, prev_count);
    note("sampling launched", first, last);
    prev_slot = k % 2;
    prev_count = last - first + 1;
  }
  if (prev_slot >= 0) deliver(prev_slot, prev_count);

  backend.read_state(s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t m = 0; m < M; ++m) {
    // The wave's wall time, shared among its models by their chains.
    out[m].fit.seconds = seconds * L.options[m].chains / std::max(1, L.n_chains);
    for (int k2 = 0; k2 < L.options[m].chains; ++k2) {
      const size_t c = static_cast<size_t>(L.chain_offset[m] + k2);
      ChainDraws& d = out[m].fit.chains[static_cast<size_t>(k2)];
      d.final_step_size = s.eps[c];
      d.gradient_evals = s.evals[c];
      d.inv_metric.assign(s.inv_metric.begin() + static_cast<long>(c * stride),
                          s.inv_metric.begin() + static_cast<long>(c * stride) + out[m].fit.dim);
    }
  }
  return out;
}

std::unique_ptr<WaveBackend> make_cpu_wave_backend(const WaveLayout& layout, bool single_precision, int threads) {
  if (single_precision) return std::make_unique<HostWaveBackend<float, ThreadPoolRunner>>(layout, ThreadPoolRunner{threads});
  return std::make_unique<HostWaveBackend<double, ThreadPoolRunner>>(layout, ThreadPoolRunner{threads});
}

long long wave_model_bytes(const Model& model, const SamplerOptions& o, int chunk, bool single_precision, int stride,
                           int scratch_reals) {
  const long long R = single_precision ? 4 : 8;
  const long long n = std::max(model.dim(), stride);
  const long long depth = clamped_depth(o);
  const ModelView<double> v = model.view<double>();
  const long long data = R * (static_cast<long long>(v.G) * v.T * (v.C + v.K + 1) + v.S * v.T + v.C) +
                         4LL * 2 * v.C + static_cast<long long>(sizeof(LiftView<double>)) * v.n_lift +
                         static_cast<long long>(sizeof(SupportView<double>) + sizeof(PriorView<double>)) * n +
                         static_cast<long long>(sizeof(PriorView<double>)) * v.C + 4096;
  const long long k = std::max(1, std::min(chunk, std::max(1, o.draws)));
  const long long per_chain = R * (5 * n + 2) + static_cast<long long>(sizeof(DualAveraging<double>)) + 32 +
                              R * std::max<long long>(nuts_workspace_size(static_cast<int>(n), static_cast<int>(depth)), 3 * n) +
                              R * std::max({1, model.scratch_size(), scratch_reals}) +
                              2 * k * (R * (n + kNumFloatStats) + 4 * kNumIntStats);
  return data + o.chains * per_chain;
}

std::vector<std::vector<int>> plan_waves(const std::vector<long long>& bytes, long long budget) {
  std::vector<std::vector<int>> waves;
  long long used = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (waves.empty() || used + bytes[i] > budget) {
      if (waves.empty() || !waves.back().empty()) waves.emplace_back();
      used = 0;
    }
    waves.back().push_back(static_cast<int>(i));
    used += bytes[i];
  }
  return waves;
}

}  // namespace herd
