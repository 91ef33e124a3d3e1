#pragma once
// ModelSpec: a model config after parsing and validation (INTERFACE.md "A model config"),
// with every default resolved. Host-only; the model builder turns it plus a Dataset into
// the device-ready ModelData.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "herd/core/choices.hpp"
#include "herd/model/distribution.hpp"

namespace herd {

enum class ScaleType { kNone, kMean, kMax };
enum class AdstockType { kNone, kGeometric, kDelayed };
enum class SaturationType { kLinear, kLog, kHill, kLogistic };
enum class LikelihoodType { kNormal, kLognormal, kStudentT };
enum class TrendType { kNone, kLinear };
enum class PoolingType { kUnpooled, kCentered, kNoncentered };
enum class EffectSign { kPositive, kFree };
enum class ControlScale { kNone, kStd };  // [controls] scale: as given, or centred and divided by the sd
/// [data] outcome_kind: what the outcome counts, which decides how returns are shown (ROAS
/// for revenue, cost per acquisition for conversions, outcome per unit of spend otherwise).
enum class OutcomeKind { kOther, kRevenue, kConversions };

/// [data]: where the CSV is and which columns mean what.
struct DataSpec {
  std::string path;          // as resolved: relative paths are taken from the config's folder
  std::string date = "week";
  std::string outcome;
  std::string panel;         // empty: wide format, one row per week
  ScaleType media_scale = ScaleType::kMean;
  ScaleType outcome_scale = ScaleType::kMean;
  OutcomeKind outcome_kind = OutcomeKind::kOther;
};

/// [media].adstock
struct AdstockSpec {
  AdstockType type = AdstockType::kNone;
  int taps = 8;              // weeks an effect lasts, lag 0 included
  bool normalize = true;
};

/// [media].pooling
struct PoolingSpec {
  PoolingType type = PoolingType::kUnpooled;
  std::map<std::string, double> multipliers;  // channel -> s_c (default 1)
};

/// [media]
struct MediaSpec {
  std::vector<std::string> channels;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // in config order
  AdstockSpec adstock;
  SaturationType saturation = SaturationType::kLinear;
  EffectSign effect_sign = EffectSign::kPositive;
  PoolingSpec pooling;
};

/// One [[lift_tests]] entry, in the user's units (spend per week, outcome per week).
struct LiftTest {
  std::string channel;
  double spend_before = 0, spend_after = 0, lift = 0, lift_sd = 1;
};

/// [sampler]
struct SamplerSpec {
  Algorithm algorithm = Algorithm::kNuts;
  int chains = 4;
  int warmup = 1000;
  int draws = 1000;
  double target_accept = 0.8;
  int max_depth = 10;
  std::uint64_t seed = 1;
  MetricKind metric = MetricKind::kPooled;  // pooled: one metric from all chains of the model
};

/// Prior families that can be set in [priors]; each has a documented default.
/// Per-label overrides are spelled "family[label]".
struct PriorSpec {
  std::map<std::string, Distribution> family;     // resolved: every family present
  std::map<std::string, Distribution> overrides;  // "beta[meta]" -> ...
  /// The prior of one element: the override if any, else the family's.
  const Distribution& get(const std::string& family_name, const std::string& label) const;
};

/// The prior family names understood in [priors], in display order.
const std::vector<std::string>& prior_family_names();

/// The documented default prior of a family; some depend on the effect sign and pooling
/// (positive pooled effects put the hierarchy on log beta).
Distribution default_prior(const std::string& family_name, EffectSign sign, PoolingType pooling);

/// A whole model config.
struct ModelSpec {
  std::string name;
  std::string source;        // the config file it came from ("<string>" for tests)
  DataSpec data;
  MediaSpec media;
  std::vector<std::string> controls;
  ControlScale control_scale = ControlScale::kNone;
  double season_period = 52.18;
  int season_harmonics = 0;
  TrendType trend = TrendType::kNone;
  LikelihoodType likelihood = LikelihoodType::kNormal;
  PriorSpec priors;
  std::vector<LiftTest> lift_tests;
  SamplerSpec sampler;
  std::vector<std::string> warnings;  // accepted but suspicious (e.g. a prior set for an unused family)
};

/// Fills every prior family the spec does not set with its default (for specs built in code).
void fill_default_priors(ModelSpec& spec);

/// Spellings used in configs and output ("geometric", "hill", ...).
const char* to_string(ScaleType v);
const char* to_string(AdstockType v);
const char* to_string(SaturationType v);
const char* to_string(LikelihoodType v);
const char* to_string(TrendType v);
const char* to_string(PoolingType v);
const char* to_string(EffectSign v);
const char* to_string(ControlScale v);
const char* to_string(OutcomeKind v);

}  // namespace herd
