// Batch throughput on the CPU: N small adstock + Hill models (8 channels, T = 104, 2 controls,
// 2 harmonics, trend; 4 chains x (500 warmup + 500 draws)) on all cores, once written to HDF5
// through the kill-safe store (parts, index, final consolidation) and once into a sink that
// only takes the models in memory. Reports models per minute and the share of wall time that
// writing costs, both as the difference of the two runs and as the time measured inside the
// writes. Each model has its own outcome series (the national example's first 104 weeks with
// 5% multiplicative noise) and its own name, hence its own random streams.
//   build/cpu/bench/bench_batch bench/results/batch-cpu.json [models=200]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/io/output_store.hpp"
#include "national_models.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Takes each model whole (a copy, as a sink that keeps models would) and lets it go.
class InMemorySink : public herd::SampleSink {
 public:
  void write(const herd::ModelOutput& m) override {
    const herd::ModelOutput copy = m;
    bytes_ += copy.groups.size();
  }

 private:
  std::atomic<size_t> bytes_{0};
};

}  // namespace

int main(int argc, char** argv) {
  const std::string json_path = argc > 1 ? argv[1] : "bench/results/batch-cpu.json";
  const int n = argc > 2 ? std::stoi(argv[2]) : 200;
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  const auto models = national_models(n, 104, 500, 500, 3);
  std::vector<herd::BatchItem> items;
  for (const auto& m : models) items.push_back({m.get(), herd::options_from(m->spec()), {}});
  herd::BatchOptions bo;
  bo.threads = threads;

  const fs::path dir = fs::temp_directory_path() / "herd_bench_batch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string file = (dir / "batch.h5").string();

  auto t0 = Clock::now();
  herd::OutputStore store(file);
  store.begin(false);
  const herd::BatchResult h5 = herd::run_batch(items, bo, store);
  const auto t1 = Clock::now();
  std::vector<std::string> order;
  for (const auto& m : models) order.push_back(m->spec().name);
  store.finish(order);
  const auto t2 = Clock::now();
  const double wall_h5 = std::chrono::duration<double>(t2 - t0).count();
  const double finish_s = std::chrono::duration<double>(t2 - t1).count();
  const auto file_bytes = fs::file_size(file);

  InMemorySink mem;
  t0 = Clock::now();
  const herd::BatchResult mr = herd::run_batch(items, bo, mem);
  const double wall_mem = std::chrono::duration<double>(Clock::now() - t0).count();
  fs::remove_all(dir);

  // Writes run on worker threads while other threads sample: their time spread over the
  // threads, plus the consolidation that runs alone at the end.
  const double measured_share = (h5.sink_seconds / threads + finish_s) / wall_h5;
  const double diff_share = (wall_h5 - wall_mem) / wall_h5;
  fmt::print("{} models (adstock+Hill, 8 channels, T=104, 4 chains x (500 + 500)), {} threads\n", n, threads);
  fmt::print("{:<34} {:>10} {:>14}\n", "sink", "wall s", "models/minute");
  fmt::print("{:<34} {:>10.1f} {:>14.2f}\n", "HDF5 (parts, index, consolidation)", wall_h5, 60.0 * n / wall_h5);
  fmt::print("{:<34} {:>10.1f} {:>14.2f}\n", "in memory", wall_mem, 60.0 * n / wall_mem);
  fmt::print("writing: {:.2f}% of wall time measured inside the writes ({:.1f} s in part writes over {} threads, "
             "{:.1f} s consolidating); {:.2f}% as the difference of the two runs; file {:.1f} MB\n",
             100 * measured_share, h5.sink_seconds, threads, finish_s, 100 * diff_share, static_cast<double>(file_bytes) / 1e6);
  nlohmann::ordered_json j;
  j["benchmark"] = "batch";
  j["models"] = n;
  j["threads"] = threads;
  j["chains"] = 4;
  j["warmup"] = 500;
  j["draws"] = 500;
  j["shape"] = "adstock_hill_T104_C8_L8";
  j["hdf5_wall_seconds"] = wall_h5;
  j["memory_wall_seconds"] = wall_mem;
  j["hdf5_models_per_minute"] = 60.0 * n / wall_h5;
  j["memory_models_per_minute"] = 60.0 * n / wall_mem;
  j["part_write_seconds_summed"] = h5.sink_seconds;
  j["consolidation_seconds"] = finish_s;
  j["write_share_measured"] = measured_share;
  j["write_share_difference"] = diff_share;
  j["file_bytes"] = file_bytes;
  j["failed"] = h5.failed + mr.failed;
  std::ofstream(json_path) << j.dump(2) << "\n";
  return 0;
}
