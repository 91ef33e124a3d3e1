// End-to-end NUTS fits of the two reference shapes, 4 chains x (1000 warmup + 1000 draws), on
// one thread and on all threads: wall time, leapfrog steps, gradient evaluations per second,
// min bulk-ESS and min bulk-ESS per second. Writes JSON (argv[1], default
// bench/results/fit-cpu.json).
//   build/cpu/bench/bench_fit bench/results/fit-cpu.json
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"

namespace {

struct Row {
  std::string shape;
  int threads;
  double seconds, grads_per_s, min_ess_bulk, min_ess_per_s, ess_per_draw;
  long long leapfrogs;
};

Row run(const std::string& shape, const std::string& config, int threads) {
  herd::ModelSpec spec = herd::parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + config);
  herd::Dataset data = herd::read_dataset(spec);
  const herd::Model model(std::move(spec), std::move(data));
  herd::SamplerOptions opt;
  opt.threads = threads;
  opt.seed = 1;
  const herd::FitResult fit = herd::fit_model(model, opt);
  const auto names = herd::output_names(model);
  const int C = static_cast<int>(fit.chains.size()), D = fit.draws;
  std::vector<double> row(names.size());
  std::vector<std::vector<double>> cols(names.size(), std::vector<double>(static_cast<size_t>(C * D)));
  long long leapfrogs = 0;
  for (int c = 0; c < C; ++c) {
    for (int n : fit.chains[static_cast<size_t>(c)].n_leapfrog) leapfrogs += n;
    for (int d = 0; d < D; ++d) {
      herd::outputs(model, &fit.chains[static_cast<size_t>(c)].theta[static_cast<size_t>(d * fit.dim)], row.data());
      for (size_t k = 0; k < names.size(); ++k) cols[k][static_cast<size_t>(c * D + d)] = row[k];
    }
  }
  double min_ess = INFINITY;
  for (const auto& x : cols) min_ess = std::min(min_ess, herd::ess_bulk(x.data(), C, D));
  return {shape, threads, fit.seconds, static_cast<double>(fit.gradient_evals()) / fit.seconds, min_ess,
          min_ess / fit.seconds, min_ess / (C * D), leapfrogs};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "bench/results/fit-cpu.json";
  const int all = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<Row> rows;
  for (int threads : {1, all}) {
    rows.push_back(run("loglog_T104_C10_noncentered", "dtc_paid_social_noncentered.toml", threads));
    rows.push_back(run("adstock_hill_T156_C8_L8", "national_media.toml", threads));
  }
  fmt::print("{:<30} {:>7} {:>9} {:>12} {:>12} {:>10} {:>11} {:>12}\n", "shape", "threads", "wall s", "leapfrogs",
             "grad/s", "min ESS", "min ESS/s", "ESS/draw");
  std::ofstream json(out);
  json << "{\n  \"benchmark\": \"fit\",\n  \"chains\": 4, \"warmup\": 1000, \"draws\": 1000,\n  \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    fmt::print("{:<30} {:>7} {:>9.2f} {:>12} {:>12.0f} {:>10.0f} {:>11.1f} {:>12.3f}\n", r.shape, r.threads, r.seconds,
               r.leapfrogs, r.grads_per_s, r.min_ess_bulk, r.min_ess_per_s, r.ess_per_draw);
    json << fmt::format(
        "    {{\"shape\": \"{}\", \"threads\": {}, \"seconds\": {}, \"leapfrogs\": {}, \"gradients_per_second\": {}, "
        "\"min_ess_bulk\": {}, \"min_ess_bulk_per_second\": {}, \"min_ess_bulk_per_draw\": {}}}{}\n",
        r.shape, r.threads, r.seconds, r.leapfrogs, r.grads_per_s, r.min_ess_bulk, r.min_ess_per_s, r.ess_per_draw,
        i + 1 < rows.size() ? "," : "");
  }
  json << "  ]\n}\n";
  return 0;
}
