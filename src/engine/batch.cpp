#include "herd/engine/batch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "herd/core/error.hpp"
#include "herd/engine/fit.hpp"

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

ModelOutput fit_one(const BatchItem& item, int threads, bool with_contributions) {
  SamplerOptions opt = item.options;
  opt.threads = threads;
  const auto t0 = Clock::now();
  ModelOutput out;
  try {
    const FitResult fit = fit_model(*item.model, opt);
    const std::string bad = nonfinite(fit);
    out = bad.empty() ? build_output(*item.model, fit, opt, with_contributions)
                      : failed_output(*item.model, opt, bad, since(t0));
  } catch (const ModelError& e) {
    out = failed_output(*item.model, opt, e.what(), since(t0));
  } catch (const std::invalid_argument& e) {
    out = failed_output(*item.model, opt, e.what(), since(t0));
  }
  for (const auto& [k, v] : item.attrs) out.text_attrs[k] = v;
  return out;
}

}  // namespace

BatchResult run_batch(const std::vector<BatchItem>& items, const BatchOptions& options, SampleSink& sink,
                      BatchObserver* observer) {
  const auto t0 = Clock::now();
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
    const Model& md = *items[i].model;
    const Dataset& d = md.dataset();
    const auto& a = md.spec().media.adstock;
    const double taps = a.type == AdstockType::kNone ? 1 : a.taps;
    cost[i] = double(d.G) * d.T * (d.C * taps + d.K + 1) * items[i].options.chains *
              (items[i].options.warmup + items[i].options.draws);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return cost[x] > cost[y]; });

  std::atomic<int> next{0}, ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::mutex m;
  std::exception_ptr error;
  double sink_seconds = 0;
  auto work = [&]() {
    for (int i = next++; i < n && !stop; i = next++) {
      const BatchItem& item = items[order[static_cast<size_t>(i)]];
      try {
        if (observer) observer->started(item);
        const ModelOutput out = fit_one(item, per_model, options.with_contributions);
        (out.ok() ? ok : failed)++;
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
  std::vector<std::thread> pool;
  for (int k = 1; k < workers; ++k) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  result.ok = ok;
  result.failed = failed;
  result.seconds = since(t0);
  result.sink_seconds = sink_seconds;
  return result;
}

}  // namespace herd
