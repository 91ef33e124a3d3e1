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
    if (options[i].warmup != options[0].warmup || options[i].draws != options[0].draws ||
        options[i].algorithm != options[0].algorithm)
      throw std::invalid_argument("the models of a wave share their warmup, draws and algorithm");
    L.model_names.push_back(shapes[i].name);
    L.dims.push_back(shapes[i].dim);
    L.stride = std::max(L.stride, shapes[i].dim);
    L.scratch_reals = std::max(L.scratch_reals, std::max(1, shapes[i].scratch));
    depth = std::max(depth, clamped_depth(options[i]));
    L.chain_offset.push_back(L.n_chains);
    L.n_chains += options[i].chains;
  }
  // NUTS's tree, or ChEES's HMC step and its proposal and mean rows (wave_chees.hpp).
  L.work_reals = std::max(nuts_workspace_size(L.stride, depth), 9 * L.stride);
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

std::string chain_error(int status, int chain, const SamplerOptions& o, int iteration) {
  if (status == kWaveInitFailed) return init_failed_message(chain, o.init_tries, o.init_radius);
  if (status == kWaveSearchFailed) return search_failed_message(chain);
  if (status == kWaveMetricFailed)
    return "the adapted metric is not finite and positive (window ending at iteration " + std::to_string(iteration) +
           ")";
  return "";
}

}  // namespace

std::vector<WaveOutcome> run_wave(WaveBackend& backend, const WaveLayout& L, const WaveProgressFn& progress) {
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
  }

  WaveBackend::State s;
  // Failed models stop their chains; the rest of the wave goes on. `iteration` names the
  // window a failed metric came from.
  auto sync_errors = [&](int iteration) {
    backend.read_state(s);
    bool stop_any = false;
    std::vector<int> status = s.status;
    for (size_t m = 0; m < M; ++m) {
      const int first = L.chain_offset[m];
      for (int k = 0; k < L.options[m].chains; ++k) {
        const int st = s.status[static_cast<size_t>(first + k)];
        if (out[m].error.empty() && st != kWaveOk && st != kWaveStopped)
          out[m].error = chain_error(st, k, L.options[m], iteration);
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
  sync_errors(0);  // models refused above

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

  // The warmup machine says what runs next; the host launches it and checks the chains
  // after every step that can fail one.
  // Progress needs the chains' step sizes: read between launches, at most once a second.
  auto last_report = std::chrono::steady_clock::now();
  auto report = [&](const WaveStep& step) {
    if (!progress || std::chrono::steady_clock::now() - last_report < std::chrono::seconds(1)) return;
    last_report = std::chrono::steady_clock::now();
    backend.read_state(s);
    for (size_t m = 0; m < M; ++m) {
      if (!out[m].error.empty()) continue;
      WaveProgress p;
      p.iteration = step.win.last + 1;
      p.total = W + D;
      p.sampling = step.kind == WaveStepKind::kSample;
      std::vector<double> eps;
      for (int k = 0; k < L.options[m].chains; ++k) eps.push_back(s.eps[static_cast<size_t>(L.chain_offset[m] + k)]);
      std::nth_element(eps.begin(), eps.begin() + static_cast<long>(eps.size() / 2), eps.end());
      p.step_size = eps.empty() ? 0 : eps[eps.size() / 2];
      for (const ChainDraws& d : out[m].fit.chains)
        p.divergences += static_cast<int>(std::count(d.diverging.begin(), d.diverging.end(), std::uint8_t{1}));
      progress(m, p);
    }
  };
  WarmupMachine machine(W, D, L.chunk, L.options[0].algorithm == Algorithm::kChees);
  int prev_slot = -1, prev_count = 0;
  for (WaveStep step = machine.next(); step.kind != WaveStepKind::kDone; step = machine.next()) {
    backend.run(step);
    if (step.kind == WaveStepKind::kTransitions || step.kind == WaveStepKind::kSample) report(step);
    switch (step.kind) {
      case WaveStepKind::kInitialize:
      case WaveStepKind::kSearch:
      case WaveStepKind::kPoolMetric:
        sync_errors(step.win.last);
        break;
      case WaveStepKind::kTransitions:
        if (trace) {
          backend.read_state(s);  // waits, so the time below is the window's
          note("warmup", step.win.first, step.win.last);
        }
        break;
      case WaveStepKind::kSample:
        if (prev_slot >= 0) deliver(prev_slot, prev_count);
        note("sampling launched", step.win.first, step.win.last);
        prev_slot = step.slot;
        prev_count = step.win.last - step.win.first + 1;
        break;
      default:
        break;
    }
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
  const long long data = static_cast<long long>(single_precision ? model.storage<float>().bytes()
                                                                  : model.storage<double>().bytes()) +
                         static_cast<long long>(sizeof(ModelView<double>) + sizeof(CheesState)) + 4096;
  const long long k = std::max(1, std::min(chunk, std::max(1, o.draws)));
  const long long per_chain = R * (5 * n + 3) + static_cast<long long>(sizeof(DualAveraging<double>)) + 36 +
                              R * std::max<long long>(nuts_workspace_size(static_cast<int>(n), static_cast<int>(depth)), 9 * n) +
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
