#include "herd/engine/batch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <tuple>
#include <mutex>
#include <thread>

#include "herd/core/error.hpp"
#include "herd/engine/device.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/wave.hpp"

namespace herd {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// "" if every draw and log density is finite, else what is not.
std::string nonfinite(const FitResult& fit) {
  for (size_t c = 0; c < fit.chains.size(); ++c) {
    const auto& ch = fit.chains[c];
    if (!std::all_of(ch.theta.begin(), ch.theta.end(), [](double v) { return std::isfinite(v); }))
      return "chain " + std::to_string(c) + " produced non-finite parameter values";
    if (!std::all_of(ch.lp.begin(), ch.lp.end(), [](double v) { return std::isfinite(v); }))
      return "chain " + std::to_string(c) + " produced a non-finite log density";
  }
  return "";
}

// A model is never ok with a non-finite value in what it reports.
void refuse_nonfinite(ModelOutput& out, const Model& model, const SamplerOptions& options, double seconds) {
  const std::string v = out.failed() ? "" : nonfinite_variable(out);
  if (!v.empty())
    out = failed_output(model, options, v + " holds values that are not finite (the data's scale overflows?)", seconds);
}

// The model's output from what its fit produced (a wave's outcome or a host driver's
// result): the one place where draws become a file's groups, or a failure.
ModelOutput finish(const BatchItem& item, const WaveOutcome& w, const BatchOptions& options) {
  ModelOutput out;
  try {
    const std::string bad = w.error.empty() ? nonfinite(w.fit) : w.error;
    out = bad.empty() ? build_output(*item.model, w.fit, item.options, options.with_contributions)
                      : failed_output(*item.model, item.options, bad, w.fit.seconds);
    refuse_nonfinite(out, *item.model, item.options, w.fit.seconds);
    if (options.with_prior && !out.failed()) add_prior_groups(out, *item.model, item.options);
  } catch (const ModelError& e) {
    out = failed_output(*item.model, item.options, e.what(), w.fit.seconds);
  }
  for (const auto& [k, v] : item.attrs.text) out.text_attrs[k] = v;
  for (const auto& [k, v] : item.attrs.real) out.real_attrs[k] = v;
  for (const auto& [k, v] : item.attrs.integer) out.int_attrs[k] = v;
  judge(out, options.checks);
  return out;
}

// One model on `threads` CPU threads.
ModelOutput fit_one(const BatchItem& item, int threads, const BatchOptions& options, BatchObserver* observer) {
  SamplerOptions opt = item.options;
  opt.threads = threads;
  const auto t0 = Clock::now();
  WaveOutcome w;
  try {
    WaveProgressFn progress;
    if (observer) progress = [&](size_t, const WaveProgress& p) { observer->progress(item, p); };
    w.fit = fit_model(*item.model, opt, options.chunk, progress);
  } catch (const ModelError& e) {
    w.error = e.what();
  } catch (const std::invalid_argument& e) {
    w.error = e.what();
  }
  if (!w.error.empty()) w.fit.seconds = since(t0);
  return finish(item, w, options);
}

// Models that cost the same per the estimate and run the same code: data sizes, structure,
// chains and iterations.
std::string shape_of(const BatchItem& item) {
  const Model& m = *item.model;
  const Dataset& d = m.dataset();
  const ModelSpec& s = m.spec();
  return std::to_string(d.G) + "/" + std::to_string(d.T) + "/" + std::to_string(d.C) + "/" + std::to_string(d.K) + "/" +
         to_string(s.media.adstock.type) + std::to_string(s.media.adstock.taps) + "/" + to_string(s.media.saturation) +
         "/" + to_string(s.media.pooling.type) + "/" + to_string(s.likelihood) + "/" + std::to_string(s.season_harmonics) +
         "/" + to_string(item.options.algorithm) + "/" + std::to_string(item.options.chains) + "/" +
         std::to_string(item.options.warmup + item.options.draws);
}

// The batch as waves: models with the same warmup and draws, as many at a time as fit the
// memory budget, every chain of a wave advancing together (wave.hpp).
BatchResult run_batch_waves(const std::vector<BatchItem>& items, const BatchOptions& options, SampleSink& sink,
                            BatchObserver* observer) {
  const auto t0 = Clock::now();
  BatchResult result;
  if (items.empty()) return result;
  const bool cuda = options.device == Device::kCuda;
  const long long budget = options.wave_bytes > 0 ? options.wave_bytes
                           : cuda                 ? static_cast<long long>(0.8 * static_cast<double>(cuda_free_memory()))
                                                  : (2LL << 30);
  std::mutex mu;
  auto emit = [&](const BatchItem& item, const ModelOutput& out) {
    const auto w0 = Clock::now();
    sink.write(out);
    const double w = since(w0);
    const std::lock_guard<std::mutex> lock(mu);
    (out.ok() ? result.ok : out.failed() ? result.failed : result.warn)++;
    result.sink_seconds += w;
    if (observer) observer->finished(item, out);
  };
  // A wave's models share their warmup, draws and algorithm.
  using GroupKey = std::tuple<int, int, Algorithm>;
  std::map<GroupKey, std::vector<size_t>> groups;
  std::vector<GroupKey> group_order;
  for (size_t i = 0; i < items.size(); ++i) {
    const BatchItem& item = items[i];
    const GroupKey k{item.options.warmup, item.options.draws, item.options.algorithm};
    if (!groups.count(k)) group_order.push_back(k);
    groups[k].push_back(i);
  }
  for (const auto& k : group_order) {
    const std::vector<size_t>& members = groups[k];
    int stride = 0, scratch = 0;
    for (size_t i : members) {
      stride = std::max(stride, items[i].model->dim());
      scratch = std::max(scratch, items[i].model->scratch_size());
    }
    std::vector<long long> bytes;
    for (size_t i : members)
      bytes.push_back(wave_model_bytes(*items[i].model, items[i].options, options.chunk, options.single_precision,
                                       stride, scratch));
    for (const std::vector<int>& wave : plan_waves(bytes, budget)) {
      std::vector<const Model*> models;
      std::vector<SamplerOptions> opts;
      for (int j : wave) {
        const BatchItem& item = items[members[static_cast<size_t>(j)]];
        if (observer) observer->started(item);
        models.push_back(item.model);
        opts.push_back(item.options);
      }
      std::vector<WaveOutcome> outcomes;
      try {
        const WaveLayout layout = make_wave_layout(models, opts, options.chunk);
        const std::unique_ptr<WaveBackend> backend =
            cuda ? make_cuda_wave_backend(layout, options.single_precision, options.lanes)
                 : make_cpu_wave_backend(layout, options.single_precision, options.threads);
        WaveProgressFn progress;
        if (observer)
          progress = [&](size_t m, const WaveProgress& p) {
            observer->progress(items[members[static_cast<size_t>(wave[m])]], p);
          };
        outcomes = run_wave(*backend, layout, progress);
      } catch (const std::runtime_error& e) {
        // The device failed (allocation, launch): every model of this wave fails with the reason.
        outcomes.assign(wave.size(), WaveOutcome{});
        for (auto& o : outcomes) o.error = std::string("the wave failed: ") + e.what();
      }
      // Outputs (constrained draws, log likelihood, contributions) are built and written on
      // every core.
      parallel_for(static_cast<int>(wave.size()), options.threads, [&](int j) {
        const BatchItem& item = items[members[static_cast<size_t>(wave[static_cast<size_t>(j)])]];
        emit(item, finish(item, outcomes[static_cast<size_t>(j)], options));
      });
    }
  }
  result.seconds = since(t0);
  return result;
}

}  // namespace

double estimated_cost(const BatchItem& item) {
  const Model& md = *item.model;
  const Dataset& d = md.dataset();
  const auto& a = md.spec().media.adstock;
  const double taps = a.type == AdstockType::kNone ? 1 : a.taps;
  return double(d.G) * d.T * (d.C * taps + d.K + 1) * item.options.chains * (item.options.warmup + item.options.draws);
}

std::vector<double> refined_costs(const std::vector<BatchItem>& items,
                                  const std::vector<std::pair<BatchItem, double>>& measured) {
  std::vector<double> out;
  std::vector<double> ratios;
  std::map<std::string, std::pair<double, int>> by_shape;
  for (const auto& [item, seconds] : measured) {
    if (!(seconds > 0)) continue;
    ratios.push_back(seconds / estimated_cost(item));
    auto& s = by_shape[shape_of(item)];
    s.first += seconds;
    s.second += 1;
  }
  std::sort(ratios.begin(), ratios.end());
  const double ratio = ratios.empty() ? 1 : ratios[ratios.size() / 2];
  for (const auto& item : items) {
    auto it = by_shape.find(shape_of(item));
    out.push_back(it != by_shape.end() ? it->second.first / it->second.second : estimated_cost(item) * ratio);
  }
  return out;
}

BatchResult run_batch(const std::vector<BatchItem>& items, const BatchOptions& options, SampleSink& sink,
                      BatchObserver* observer) {
  const auto t0 = Clock::now();
  if (options.device == Device::kCuda || options.single_precision) return run_batch_waves(items, options, sink, observer);
  BatchResult result;
  const int n = static_cast<int>(items.size());
  if (n == 0) return result;
  const int threads = options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int workers = std::min(threads, n);
  const int per_model = std::max(1, threads / workers);

  // Longest first (by an estimate of the work), so that no big model starts last and runs alone.
  std::vector<size_t> order(items.size());
  std::vector<double> cost(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    order[i] = i;
    cost[i] = estimated_cost(items[i]);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return cost[x] > cost[y]; });

  std::atomic<int> next{0}, ok{0}, warn{0}, failed{0};
  std::atomic<bool> stop{false};
  std::mutex m;
  std::exception_ptr error;
  double sink_seconds = 0;
  auto work = [&]() {
    for (int i = next++; i < n && !stop; i = next++) {
      const BatchItem& item = items[order[static_cast<size_t>(i)]];
      try {
        if (observer) observer->started(item);
        const ModelOutput out = fit_one(item, per_model, options, observer);
        (out.ok() ? ok : out.failed() ? failed : warn)++;
        const auto w0 = Clock::now();
        sink.write(out);
        const double w = since(w0);
        {
          const std::lock_guard<std::mutex> lock(m);
          sink_seconds += w;
        }
        if (observer) observer->finished(item, out);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
        stop = true;
      }
    }
  };
  parallel_for(workers, workers, [&](int) { work(); });  // each worker takes models until none are left
  if (error) std::rethrow_exception(error);
  result.ok = ok;
  result.warn = warn;
  result.failed = failed;
  result.seconds = since(t0);
  result.sink_seconds = sink_seconds;
  return result;
}

}  // namespace herd
