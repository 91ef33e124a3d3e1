#pragma once
// The benchmarks' batch: n copies of the national example (configs/examples/national_media,
// adstock + Hill, 8 channels), each with its own outcome series (the example's, with 5%
// multiplicative noise from a stream keyed by the model's name) and its own name.
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"

/// Models named brand_0, brand_1, ... zero-padded to `name_width`, on the first `weeks` weeks
/// of the example's data (all of them when weeks <= 0), sampled 4 x (warmup + draws) by default.
inline std::vector<std::unique_ptr<herd::Model>> national_models(int n, int weeks, int warmup, int draws,
                                                                 int name_width) {
  const std::string dir = std::string(HERD_SOURCE_DIR) + "/configs/examples/";
  herd::ModelSpec spec = herd::parse_model_config(dir + "national_media.toml");
  spec.sampler.chains = 4;
  spec.sampler.warmup = warmup;
  spec.sampler.draws = draws;
  std::ifstream in(dir + "national_media.csv");
  std::string line, text;
  for (int i = 0; (weeks <= 0 || i <= weeks) && std::getline(in, line); ++i) text += line + "\n";
  const std::string source =
      dir + "national_media.csv" + (weeks > 0 ? " (first " + std::to_string(weeks) + " weeks)" : "");
  const herd::Dataset data = herd::read_dataset_text(text, source, spec);
  std::vector<std::unique_ptr<herd::Model>> out;
  for (int i = 0; i < n; ++i) {
    herd::ModelSpec s = spec;
    s.name = fmt::format("brand_{:0{}}", i, name_width);
    const herd::Model base(s, data);
    herd::Philox rng(herd::stream_key(7, herd::model_id(s.name)), 0, 0, herd::RngUse::kSimulate);
    std::vector<double> y = data.outcome;
    for (double& v : y) v *= 1 + 0.05 * rng.normal();
    out.push_back(std::make_unique<herd::Model>(herd::with_outcome(base, y)));
  }
  return out;
}
