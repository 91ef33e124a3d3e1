// `herd analyze` + `herd optimize` per model, on one core: one adstock + Hill model (8
// channels, T = 104, 2 controls, 2 harmonics, trend; 4 chains x (500 + 500)) is fitted once,
// written N times under different names into one HDF5 file (without the posterior's
// contribution array, as analyze never reads it), then every model is read back, rebuilt,
// analyzed (contributions, ROI, 61-point curves, diminishing returns, adstock, 4000 prior
// draws for contraction) and its budget optimized (mean and q10 objectives). The analysis
// groups are written into the file in one pass at the end, as `herd analyze --all` does.
//   build/cpu/bench/bench_analysis bench/results/analysis-cpu.json [models=200]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "herd/analysis/analysis.hpp"
#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/fit.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/summary.hpp"
#include "herd/output/model_output.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

int main(int argc, char** argv) {
  const std::string json_path = argc > 1 ? argv[1] : "bench/results/analysis-cpu.json";
  const int n = argc > 2 ? std::stoi(argv[2]) : 200;
  const std::string dir = std::string(HERD_SOURCE_DIR) + "/configs/examples/";
  herd::ModelSpec spec = herd::parse_model_config(dir + "national_media.toml");
  std::ifstream in(dir + "national_media.csv");
  std::string line, text;
  for (int i = 0; i <= 104 && std::getline(in, line); ++i) text += line + "\n";
  const herd::Dataset data = herd::read_dataset_text(text, dir + "national_media.csv (first 104 weeks)", spec);
  const herd::Model model(spec, data);
  herd::SamplerOptions o = herd::options_from(spec);
  o.warmup = 500;
  o.draws = 500;
  o.threads = 1;
  auto t0 = Clock::now();
  const herd::FitResult fit = herd::fit_model(model, o);
  const double fit_s = since(t0);
  herd::ModelOutput out = herd::build_output(model, fit, o, false);

  const fs::path tmp = fs::temp_directory_path() / "herd_bench_analysis";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string file = (tmp / "models.h5").string();
  {
    herd::ModelFileWriter w(file);
    for (int i = 0; i < n; ++i) {
      out.name = fmt::format("brand_{:03}", i);
      w.add(out);
    }
    w.commit();
  }

  double read_s = 0, analyze_s = 0, opt_mean_s = 0, opt_q10_s = 0;
  int evals_mean = 0, evals_q10 = 0;
  std::vector<std::pair<std::string, herd::DataGroup>> groups;
  herd::ReadOptions ro;
  ro.skip = herd::derived_variables();
  for (const auto& name : herd::list_models(file)) {
    t0 = Clock::now();
    const herd::ModelOutput mo = herd::read_model(file, name, ro);
    const herd::FittedModel f = herd::restore_model(mo, file);
    read_s += since(t0);
    t0 = Clock::now();
    const herd::Analysis a = herd::analyze(f, name);
    groups.emplace_back(name, herd::analysis_group(a));
    analyze_s += since(t0);
    t0 = Clock::now();
    const herd::ResponseModel r(*f.model, f.theta.data(), f.n());
    herd::OptimizeOptions oo;
    const herd::OptimizeResult res = herd::optimize(r, oo);
    opt_mean_s += since(t0);
    evals_mean += res.evaluations;
    t0 = Clock::now();
    oo.objective = "q10";
    const herd::OptimizeResult rq = herd::optimize(r, oo);
    opt_q10_s += since(t0);
    evals_q10 += rq.evaluations;
  }
  t0 = Clock::now();
  herd::add_groups(file, groups);
  const double write_s = since(t0);
  fs::remove_all(tmp);

  const double analyze_per = (read_s + analyze_s + write_s) / n;
  fmt::print("{} models (adstock+Hill, 8 channels, T=104, 4 x 500 draws), one core; fit of one model {:.1f} s\n", n,
             fit_s);
  fmt::print("{:<44} {:>12}\n", "step", "s per model");
  fmt::print("{:<44} {:>12.4f}\n", "read + rebuild model and draws", read_s / n);
  fmt::print("{:<44} {:>12.4f}\n", "analyze (curves, ROI, contraction, ...)", analyze_s / n);
  fmt::print("{:<44} {:>12.4f}\n", "write analysis groups (one pass)", write_s / n);
  fmt::print("{:<44} {:>12.4f}  (target < 1 s; {:.4f} of the fit's time)\n", "analyze total", analyze_per,
             analyze_per / fit_s);
  fmt::print("{:<44} {:>12.4f}  (target < 2 s; {:.1f} evaluations)\n", "optimize, mean objective", opt_mean_s / n,
             static_cast<double>(evals_mean) / n);
  fmt::print("{:<44} {:>12.4f}  ({:.1f} evaluations)\n", "optimize, q10 objective", opt_q10_s / n,
             static_cast<double>(evals_q10) / n);
  nlohmann::ordered_json j;
  j["benchmark"] = "analysis";
  j["models"] = n;
  j["threads"] = 1;
  j["draws_per_model"] = 4 * 500;
  j["shape"] = "adstock_hill_T104_C8_L8";
  j["fit_seconds_one_model"] = fit_s;
  j["read_seconds_per_model"] = read_s / n;
  j["analyze_seconds_per_model"] = analyze_s / n;
  j["write_seconds_per_model"] = write_s / n;
  j["analyze_total_seconds_per_model"] = analyze_per;
  j["analyze_over_fit"] = analyze_per / fit_s;
  j["optimize_mean_seconds_per_model"] = opt_mean_s / n;
  j["optimize_q10_seconds_per_model"] = opt_q10_s / n;
  j["optimize_mean_evaluations"] = static_cast<double>(evals_mean) / n;
  j["optimize_q10_evaluations"] = static_cast<double>(evals_q10) / n;
  std::ofstream(json_path) << j.dump(2) << "\n";
  return 0;
}
