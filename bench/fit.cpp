// End-to-end NUTS fits of the two reference shapes, 4 chains x (1000 warmup + 1000 draws), on
// one thread and on all threads (the adstock + Hill shape on all threads only: 80 s a fit on
// one), by the one driver (fit_model: a one-model wave on the host), R times (argv[2],
// default 3): median wall time and its spread, leapfrog steps, gradient evaluations per
// second, min bulk-ESS and min bulk-ESS per second. Writes JSON (argv[1], default
// bench/results/fit-cpu.json). (bench/README.md has the same-run comparison with the driver
// this one replaced.)
//   build/cpu/bench/bench_fit bench/results/fit-cpu.json 3
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"

namespace {

struct Row {
  std::string shape, driver;
  int threads;
  double seconds, seconds_min, seconds_max, grads_per_s, min_ess_bulk, min_ess_per_s, ess_per_draw;
  long long leapfrogs;
};

Row row_of(const std::string& shape, const herd::Model& model, const herd::FitResult& fit, int threads,
           std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
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
  return {shape,  "wave", threads, median, seconds.front(), seconds.back(),
          static_cast<double>(fit.gradient_evals()) / median, min_ess, min_ess / median, min_ess / (C * D), leapfrogs};
}

void run(std::vector<Row>& rows, const std::string& shape, const std::string& config, int threads, int repeats) {
  herd::ModelSpec spec = herd::parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + config);
  herd::Dataset data = herd::read_dataset(spec);
  const herd::Model model(std::move(spec), std::move(data));
  herd::SamplerOptions opt;
  opt.threads = threads;
  opt.seed = 1;
  std::vector<double> seconds;
  herd::FitResult fit;
  for (int r = 0; r < repeats; ++r) {
    fit = herd::fit_model(model, opt);
    seconds.push_back(fit.seconds);
  }
  rows.push_back(row_of(shape, model, fit, threads, seconds));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "bench/results/fit-cpu.json";
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const int all = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<Row> rows;
  for (int threads : {1, all}) run(rows, "loglog_T104_C10_noncentered", "dtc_paid_social_noncentered.toml", threads, repeats);
  run(rows, "adstock_hill_T156_C8_L8", "national_media.toml", all, repeats);
  fmt::print("{:<30} {:>8} {:>7} {:>9} {:>17} {:>12} {:>12} {:>10} {:>11} {:>12}\n", "shape", "driver", "threads",
             "wall s", "spread", "leapfrogs", "grad/s", "min ESS", "min ESS/s", "ESS/draw");
  nlohmann::ordered_json j;
  j["benchmark"] = "fit";
  j["chains"] = 4;
  j["warmup"] = 1000;
  j["draws"] = 1000;
  j["repeats"] = repeats;
  j["rows"] = nlohmann::ordered_json::array();
  for (const Row& r : rows) {
    fmt::print("{:<30} {:>8} {:>7} {:>9.2f} {:>8.2f}..{:<7.2f} {:>12} {:>12.0f} {:>10.0f} {:>11.1f} {:>12.3f}\n", r.shape,
               r.driver, r.threads, r.seconds, r.seconds_min, r.seconds_max, r.leapfrogs, r.grads_per_s, r.min_ess_bulk,
               r.min_ess_per_s, r.ess_per_draw);
    j["rows"].push_back({{"shape", r.shape},
                         {"driver", r.driver},
                         {"threads", r.threads},
                         {"seconds", r.seconds},
                         {"seconds_min", r.seconds_min},
                         {"seconds_max", r.seconds_max},
                         {"leapfrogs", r.leapfrogs},
                         {"gradients_per_second", r.grads_per_s},
                         {"min_ess_bulk", r.min_ess_bulk},
                         {"min_ess_bulk_per_second", r.min_ess_per_s},
                         {"min_ess_bulk_per_draw", r.ess_per_draw}});
  }
  std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
