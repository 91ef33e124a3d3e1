#pragma once
// Random models for the model tests: any combination of blocks, with data generated in code.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "herd/data/dataset.hpp"
#include "herd/model/model.hpp"
#include "herd/model/spec.hpp"

namespace herd::testing {

struct Options {
  int T = 30, G = 1, C = 3, K = 2, harmonics = 1;
  AdstockType adstock = AdstockType::kGeometric;
  int taps = 4;
  bool normalize = true;
  SaturationType saturation = SaturationType::kHill;
  LikelihoodType likelihood = LikelihoodType::kNormal;
  PoolingType pooling = PoolingType::kNoncentered;
  EffectSign sign = EffectSign::kPositive;
  bool trend = true;
  int lift_tests = 1;
  ControlScale control_scale = ControlScale::kNone;
  double control_offset = 0, control_spread = 1;  // controls ~ offset + spread * N(0, 1)
};

inline Model make_model(const Options& o, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  std::normal_distribution<double> n01(0, 1);
  Dataset d;
  d.source = "random.csv";
  d.T = o.T;
  d.G = o.G;
  d.C = o.C;
  d.K = o.K;
  for (int t = 0; t < o.T; ++t) d.dates.push_back(std::to_string(t + 1));
  for (int g = 0; g < o.G; ++g) d.geos.push_back(o.G > 1 ? "geo" + std::to_string(g) : "");
  for (int c = 0; c < o.C; ++c) d.channels.push_back("ch" + std::to_string(c));
  for (int k = 0; k < o.K; ++k) d.controls.push_back("ctl" + std::to_string(k));
  for (int g = 0; g < o.G; ++g)
    for (int c = 0; c < o.C; ++c)
      for (int t = 0; t < o.T; ++t) {
        // Some weeks dark (zero spend) unless log saturation needs every week lit.
        const bool dark = o.saturation != SaturationType::kLog && u01(rng) < 0.15;
        d.media.push_back(dark ? 0.0 : (100.0 * (c + 1)) * (0.3 + 1.4 * u01(rng)));
      }
  for (int g = 0; g < o.G; ++g)
    for (int k = 0; k < o.K; ++k)
      for (int t = 0; t < o.T; ++t) d.control.push_back(o.control_offset + o.control_spread * n01(rng));
  set_control_scales(d, o.control_scale);
  for (int i = 0; i < o.G * o.T; ++i) {
    d.outcome.push_back(1000.0 * (1.0 + 0.3 * u01(rng)));
    d.line.push_back(i + 2);
  }
  d.outcome_column = 2;
  for (int c = 0; c < o.C; ++c) {
    d.media_column.push_back(3 + c);
    double s = 0;
    int n = 0;
    for (int g = 0; g < o.G; ++g)
      for (int t = 0; t < o.T; ++t) {
        const double v = d.media[static_cast<size_t>((g * o.C + c) * o.T + t)];
        if (v > 0) s += v, ++n;
      }
    d.media_scale.push_back(s / n);
  }
  double ys = 0;
  for (double y : d.outcome) ys += y;
  d.outcome_scale = ys / static_cast<double>(d.outcome.size());

  ModelSpec spec;
  spec.name = "random";
  spec.source = "random.toml";
  spec.data.panel = o.G > 1 ? "geo" : "";
  spec.media.channels = d.channels;
  spec.media.adstock = {o.adstock, o.taps, o.normalize};
  spec.media.saturation = o.saturation;
  spec.media.effect_sign = o.sign;
  spec.media.pooling.type = o.pooling;
  // Two groups and one ungrouped channel (when C >= 3), so pooled and unpooled channels mix.
  if (o.C >= 3) {
    std::vector<std::string> g1, g2;
    for (int c = 0; c < o.C - 1; ++c) (c % 2 ? g2 : g1).push_back(d.channels[c]);
    spec.media.groups.push_back({"social", g1});
    spec.media.groups.push_back({"search", g2});
  } else {
    spec.media.groups.push_back({"all", d.channels});
  }
  for (int c = 0; c < o.C; ++c) spec.media.pooling.multipliers[d.channels[c]] = 0.2 + 1.8 * u01(rng);
  spec.controls = d.controls;
  spec.control_scale = o.control_scale;
  spec.season_harmonics = o.harmonics;
  spec.season_period = 13.0;
  spec.trend = o.trend ? TrendType::kLinear : TrendType::kNone;
  spec.likelihood = o.likelihood;
  fill_default_priors(spec);
  // One override, so per-label priors are exercised.
  spec.priors.overrides["adstock_decay[ch0]"] = Distribution{Family::kBeta, 2, 2, 0};
  // And a pooled channel's own effect prior (ch0 is grouped whenever C >= 1).
  spec.priors.overrides["beta[ch0]"] = Distribution{Family::kNormal, 0.3, 0.5, 0};
  for (int j = 0; j < o.lift_tests; ++j) {
    LiftTest lt;
    lt.channel = d.channels[static_cast<size_t>(j % o.C)];
    lt.spend_before = d.media_scale[static_cast<size_t>(j % o.C)] * 0.8;
    lt.spend_after = d.media_scale[static_cast<size_t>(j % o.C)] * 1.3;
    lt.lift = 50.0 * (1 + u01(rng));
    lt.lift_sd = 20.0;
    if (o.likelihood == LikelihoodType::kLognormal) lt.lift = 0.05 * d.outcome_scale * (1 + u01(rng));
    spec.lift_tests.push_back(lt);
  }
  return Model(spec, d);
}

/// A named model shape.
struct BlockCase {
  const char* name;
  Options o;
};

/// Each block alone: a model with only that block beyond intercept and sigma.
inline std::vector<BlockCase> each_block_alone() {
  std::vector<BlockCase> cases;
  Options base;
  base.K = 0;
  base.harmonics = 0;
  base.trend = false;
  base.adstock = AdstockType::kNone;
  base.saturation = SaturationType::kLinear;
  base.pooling = PoolingType::kUnpooled;
  base.lift_tests = 0;
  cases.push_back({"media linear", base});
  Options o = base; o.trend = true; cases.push_back({"trend", o});
  o = base; o.harmonics = 2; cases.push_back({"season", o});
  o = base; o.K = 3; cases.push_back({"controls", o});
  o = base; o.adstock = AdstockType::kGeometric; cases.push_back({"geometric", o});
  o = base; o.adstock = AdstockType::kDelayed; cases.push_back({"delayed", o});
  o = base; o.saturation = SaturationType::kHill; cases.push_back({"hill", o});
  o = base; o.saturation = SaturationType::kLogistic; cases.push_back({"logistic", o});
  o = base; o.saturation = SaturationType::kLog; cases.push_back({"log", o});
  o = base; o.pooling = PoolingType::kCentered; cases.push_back({"centered", o});
  o = base; o.pooling = PoolingType::kNoncentered; cases.push_back({"noncentered", o});
  o = base; o.G = 4; cases.push_back({"panel", o});
  o = base; o.likelihood = LikelihoodType::kStudentT; cases.push_back({"student_t", o});
  o = base; o.likelihood = LikelihoodType::kLognormal; cases.push_back({"lognormal", o});
  o = base; o.lift_tests = 2; o.saturation = SaturationType::kHill; cases.push_back({"lift", o});
  return cases;
}

/// Models that hand out views into themselves (never moved), and their pointers.
struct OwnedModels {
  std::vector<std::unique_ptr<Model>> models;
  void add(Model m) { models.push_back(std::make_unique<Model>(std::move(m))); }
  std::vector<const Model*> ptrs() const {
    std::vector<const Model*> p;
    for (const auto& m : models) p.push_back(m.get());
    return p;
  }
};

}  // namespace herd::testing
