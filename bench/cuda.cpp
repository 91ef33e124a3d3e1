// The CUDA backend against the CPU, in one run on one machine (a GPU box).
//   gradient: the national example's shape (adstock + Hill, 8 channels, T = 156, 8 taps,
//     2 controls, 2 harmonics, trend), 4 points (chains) per model, models in
//     {1, 10, 100, 1000, 4000}: gradient evaluations per second on the GPU (a warp per point
//     in float64 and float32, a thread per point in float64; CUDA events) and on all CPU
//     cores (same points), and the achieved FLOP/s as a share of the device's vector peak,
//     with the flop count of one gradient stated below.
//   e2e: N such models (each its own noisy outcome series and name) x 4 chains x
//     (warmup + draws) written to HDF5 through the store, on the GPU, and a subset of them on
//     all CPU cores: wall time, models per second, share of models with max R-hat < 1.01.
//   build/cuda/bench/bench_cuda OUT.json [gradient|e2e|all] [e2e_models=1000] [warmup=1000]
//                               [draws=1000] [cpu_models=64] [precision=float64]
//   bench_cuda OUT.json export [models=1000]: the e2e models' outcomes and check points for the
//     NumPyro peer (needs no GPU).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/device.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/io/output_store.hpp"
#include "national_models.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Flops of one log density + gradient of the national shape, counting adds and multiplies of
// the loops over weeks (an FMA is two) and a transcendental as one: adstock forward (C T L
// multiply-adds) and backward (2 C T L), Hill forward and backward (about 12 per channel and
// week, two pow), the mean and its backward pass over controls, season, trend and intercept
// (4 (K + S + 2) T), the likelihood (8 T).
double flops_per_gradient(const herd::Model& m) {
  const herd::ModelView<double> v = m.view<double>();
  const double T = v.T * v.G, C = v.C, L = v.L;
  return 2 * C * T * L + 4 * C * T * L + 12 * C * T + 4 * (v.K + v.S + 2) * T + 8 * T;
}

// Tees each finished model into the store and records its largest R-hat over the posterior's
// parameters (contributions left out).
class RhatSink : public herd::SampleSink {
 public:
  explicit RhatSink(herd::SampleSink* next) : next_(next) {}
  void write(const herd::ModelOutput& m) override {
    double worst = m.failed() ? 1e9 : 0;
    if (const herd::DataGroup* post = m.group("posterior")) {
      const int chains = static_cast<int>(m.int_attrs.at("chains")), draws = static_cast<int>(m.int_attrs.at("draws"));
      std::vector<double> x(static_cast<size_t>(chains * draws));
      for (const herd::Variable& var : post->vars) {
        if (var.name == "contribution") continue;
        const size_t per = var.values.size() / x.size();
        for (size_t e = 0; e < per; ++e) {
          for (size_t k = 0; k < x.size(); ++k) x[k] = var.values[k * per + e];
          worst = std::max(worst, herd::rhat(x.data(), chains, draws));
        }
      }
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      rhats_.push_back(worst);
      evals_ += m.int_attrs.count("gradient_evals") ? m.int_attrs.at("gradient_evals") : 0;
    }
    if (next_) next_->write(m);
  }
  double share_below(double r) const {
    if (rhats_.empty()) return 0;
    return static_cast<double>(std::count_if(rhats_.begin(), rhats_.end(), [&](double v) { return v < r; })) /
           static_cast<double>(rhats_.size());
  }
  long long evals() const { return evals_; }

 private:
  herd::SampleSink* next_;
  std::mutex mu_;
  std::vector<double> rhats_;
  long long evals_ = 0;
};

struct E2E {
  int models = 0;
  double wall = 0, fit = 0, rhat_share = 0;
  long long evals = 0;
  int failed = 0;
};

E2E run_e2e(const std::vector<std::unique_ptr<herd::Model>>& models, int n, const herd::BatchOptions& bo,
            const fs::path& file) {
  std::vector<herd::BatchItem> items;
  for (int i = 0; i < n; ++i) items.push_back({models[static_cast<size_t>(i)].get(), herd::options_from(models[static_cast<size_t>(i)]->spec()), {}});
  const auto t0 = Clock::now();
  herd::OutputStore store(file.string());
  store.begin(false);
  RhatSink sink(&store);
  const herd::BatchResult r = herd::run_batch(items, bo, sink);
  std::vector<std::string> order;
  for (const auto& it : items) order.push_back(it.model->spec().name);
  store.finish(order);
  E2E e;
  e.models = n;
  e.wall = since(t0);
  e.fit = r.seconds;
  e.rhat_share = sink.share_below(1.01);
  e.evals = sink.evals();
  e.failed = r.failed;
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string json_path = argc > 1 ? argv[1] : "bench/results/cuda.json";
  const std::string mode = argc > 2 ? argv[2] : "all";
  const int e2e_models = argc > 3 ? std::stoi(argv[3]) : 1000;
  const int warmup = argc > 4 ? std::stoi(argv[4]) : 1000;
  const int draws = argc > 5 ? std::stoi(argv[5]) : 1000;
  const int cpu_models = argc > 6 ? std::stoi(argv[6]) : 64;
  const bool single = argc > 7 && std::string(argv[7]) == "float32";
  if (mode == "export") {
    // For the NumPyro peer (bench/peers/numpyro/national.py): each model's outcome series, and
    // the first model's log density and gradient at random unconstrained points by name.
    const int n = argc > 3 ? std::stoi(argv[3]) : 1000;
    const auto models = national_models(n, 0, warmup, draws, 4);
    nlohmann::ordered_json j;
    j["outcome"] = "revenue";
    j["models"] = nlohmann::ordered_json::array();
    for (int i = 0; i < n; ++i) {
      const herd::Dataset& d = models[static_cast<size_t>(i)]->dataset();
      j["models"].push_back({{"name", models[static_cast<size_t>(i)]->spec().name},
                             {"outcome_scale", d.outcome_scale},
                             {"y", d.outcome}});
    }
    const herd::Model& m = *models[0];
    nlohmann::ordered_json& check = j["check"];
    check["names"] = nlohmann::ordered_json::array();
    for (const auto& p : m.params()) check["names"].push_back(p.name);
    check["points"] = nlohmann::ordered_json::array();
    herd::Philox rng(5, 0, 0, herd::RngUse::kSimulate);
    std::vector<double> theta(static_cast<size_t>(m.dim())), g(theta.size());
    for (int p = 0; p < 5; ++p) {
      for (auto& v : theta) v = 0.5 * rng.normal();
      const double lp = m.log_density_grad(theta.data(), g.data());
      check["points"].push_back({{"theta", theta}, {"lp", lp}, {"grad", g}});
    }
    std::ofstream(json_path) << j.dump(2) << "\n";
    fmt::print("wrote {} models and 5 check points to {}\n", n, json_path);
    return 0;
  }
  if (!herd::cuda_built() || herd::cuda_device_count() == 0) {
    fmt::print(stderr, "bench_cuda: needs a CUDA build and a GPU ({})\n", herd::cuda_device_report());
    return 2;
  }
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  const std::string device = herd::cuda_device_name();
  nlohmann::ordered_json json;
  json["benchmark"] = "cuda";
  json["device"] = device;
  json["cpu_threads"] = threads;
  json["shape"] = "national_media: adstock_hill T156 C8 L8 K2 S4 trend";
  fmt::print("device: {}; CPU: {} threads\n", device, threads);

  if (mode == "gradient" || mode == "all") {
    const std::vector<int> sizes = {1, 10, 100, 1000, 4000};
    const auto models = national_models(sizes.back(), 0, 10, 10, 4);
    const double flops = flops_per_gradient(*models[0]);
    const int points = 4, dim = models[0]->dim();
    std::vector<const herd::Model*> all;
    for (const auto& m : models) all.push_back(m.get());
    herd::Philox rng(11, 0, 0, herd::RngUse::kSimulate);
    std::vector<double> theta(all.size() * points * static_cast<size_t>(dim));
    for (auto& v : theta) v = 0.5 * rng.normal();
    // CPU: every core over the 4000 x 4 points once.
    std::atomic<long long> done{0};
    const auto c0 = Clock::now();
    herd::parallel_for(static_cast<int>(all.size()), threads, [&](int k) {
      std::vector<double> g(static_cast<size_t>(dim));
      for (int p = 0; p < points; ++p)
        all[static_cast<size_t>(k)]->log_density_grad(theta.data() + (static_cast<size_t>(k) * points + static_cast<size_t>(p)) * static_cast<size_t>(dim), g.data());
      done += points;
    });
    const double cpu_rate = static_cast<double>(done) / since(c0);
    fmt::print("gradient: {:.0f} flops each (counted); CPU {} threads: {:.3g} evals/s\n", flops, threads, cpu_rate);
    fmt::print("{:>7} {:>7} {:>13} {:>9} {:>13} {:>9} {:>14} {:>8}\n", "models", "points", "f64 evals/s", "f64 peak",
               "f32 evals/s", "f32 peak", "f64 thread/pt", "f64/CPU");
    json["flops_per_gradient"] = flops;
    json["cpu_gradient_evals_per_s"] = cpu_rate;
    json["peak_fp64"] = herd::cuda_peak_flops(false);
    json["peak_fp32"] = herd::cuda_peak_flops(true);
    json["gradient"] = nlohmann::ordered_json::array();
    for (size_t s = 0; s < sizes.size(); ++s) {
      const int n = sizes[s];
      std::vector<const herd::Model*> sub(all.begin(), all.begin() + n);
      std::vector<double> th(theta.begin(), theta.begin() + static_cast<long>(static_cast<size_t>(n) * points * static_cast<size_t>(dim)));
      // [0] f64 and [1] f32 with a warp per point, [2] f64 with a thread per point.
      double rate[3], peak_share[3];
      for (int k = 0; k < 3; ++k) {
        const bool f32 = k == 1;
        const int lanes = k == 2 ? 1 : 32;
        // Enough repeats for about 0.2 s of timed launches.
        const double once = herd::cuda_log_density_grad(sub, f32, points, th, 1, lanes).seconds_per_repeat;
        const int reps = std::max(3, std::min(2000, static_cast<int>(0.2 / std::max(once, 1e-6))));
        const double sec = herd::cuda_log_density_grad(sub, f32, points, th, reps, lanes).seconds_per_repeat;
        rate[k] = n * points / sec;
        peak_share[k] = rate[k] * flops / herd::cuda_peak_flops(f32);
      }
      fmt::print("{:>7} {:>7} {:>13.4g} {:>8.2f}% {:>13.4g} {:>8.2f}% {:>14.4g} {:>8.2f}\n", n, n * points, rate[0],
                 100 * peak_share[0], rate[1], 100 * peak_share[1], rate[2], rate[0] / cpu_rate);
      json["gradient"].push_back({{"models", n},
                                  {"points", n * points},
                                  {"fp64_evals_per_s", rate[0]},
                                  {"fp64_peak_share", peak_share[0]},
                                  {"fp32_evals_per_s", rate[1]},
                                  {"fp32_peak_share", peak_share[1]},
                                  {"fp64_thread_per_point_evals_per_s", rate[2]},
                                  {"fp64_over_cpu", rate[0] / cpu_rate}});
    }
  }

  if (mode == "e2e" || mode == "all") {
    const auto models = national_models(e2e_models, 0, warmup, draws, 4);
    const fs::path dir = fs::temp_directory_path() / "herd_bench_cuda";
    fs::remove_all(dir);
    fs::create_directories(dir);
    // Without the `contribution` group (T x C per draw: 40 MB a model at 4 x 1000 draws),
    // as herd fit --no-contributions.
    herd::BatchOptions gpu;
    gpu.device = herd::Device::kCuda;
    gpu.single_precision = single;
    gpu.with_contributions = false;
    const E2E g = run_e2e(models, e2e_models, gpu, dir / "gpu.h5");
    fmt::print("e2e GPU ({}): {} models x 4 chains x ({} + {}): {:.1f} s wall ({:.1f} s fitting), {:.2f} models/s, "
               "{:.1f}% with max R-hat < 1.01, {} failed, {:.3g} gradient evals/s\n",
               single ? "float32" : "float64", g.models, warmup, draws, g.wall, g.fit, g.models / g.wall,
               100 * g.rhat_share, g.failed, static_cast<double>(g.evals) / g.fit);
    nlohmann::ordered_json& e2e = json["e2e"];
    e2e["warmup"] = warmup;
    e2e["draws"] = draws;
    e2e["chains"] = 4;
    e2e["precision"] = single ? "float32" : "float64";
    e2e["contributions"] = false;
    e2e["gpu"] = {{"models", g.models},
                  {"wall_s", g.wall},
                  {"fit_s", g.fit},
                  {"models_per_s", g.models / g.wall},
                  {"rhat_below_1.01", g.rhat_share},
                  {"failed", g.failed},
                  {"gradient_evals", g.evals}};
    if (cpu_models > 0) {
      herd::BatchOptions cpu;
      cpu.threads = threads;
      cpu.with_contributions = false;
      const int nc = std::min(cpu_models, e2e_models);
      const E2E c = run_e2e(models, nc, cpu, dir / "cpu.h5");
      fmt::print("e2e CPU ({} threads): {} models: {:.1f} s wall, {:.3f} models/s, {:.1f}% with max R-hat < 1.01; "
                 "GPU/CPU models per second: {:.2f}\n",
                 threads, c.models, c.wall, c.models / c.wall, 100 * c.rhat_share, (g.models / g.wall) / (c.models / c.wall));
      e2e["cpu"] = {{"models", c.models},
                    {"threads", threads},
                    {"wall_s", c.wall},
                    {"models_per_s", c.models / c.wall},
                    {"rhat_below_1.01", c.rhat_share},
                    {"failed", c.failed}};
      e2e["gpu_over_cpu_models_per_s"] = (g.models / g.wall) / (c.models / c.wall);
    }
    fs::remove_all(dir);
  }
  std::ofstream(json_path) << json.dump(2) << "\n";
  fmt::print("wrote {}\n", json_path);
  return 0;
}
