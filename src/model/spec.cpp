#include "herd/model/spec.hpp"

#include <stdexcept>

#include "herd/core/error.hpp"

namespace herd {

const Distribution& PriorSpec::get(const std::string& family_name, const std::string& label) const {
  if (auto it = overrides.find(family_name + "[" + label + "]"); it != overrides.end()) return it->second;
  auto it = family.find(family_name);
  if (it == family.end()) throw std::logic_error("prior family not resolved: " + family_name);
  return it->second;
}

const std::vector<std::string>& prior_family_names() {
  static const std::vector<std::string> names = {
      "intercept",   "trend",        "beta",       "beta_mu",    "beta_sigma",
      "beta_tau",    "adstock_decay", "adstock_peak", "hill_kappa", "hill_slope",
      "logistic_lambda", "control",  "season",     "sigma",      "nu"};
  return names;
}

Distribution default_prior(const std::string& f, EffectSign sign, PoolingType pooling) {
  auto d = [](Family fam, double a, double b = 0, double c = 0) { return Distribution{fam, a, b, c}; };
  const bool pos = sign == EffectSign::kPositive;
  (void)pooling;
  // Defaults assume media scaled by its mean and the outcome by its mean (the defaults of
  // [data]), so effects are "share of the outcome per average week of spend".
  if (f == "intercept") return d(Family::kNormal, 0, 2);
  if (f == "trend") return d(Family::kNormal, 0, 1);
  if (f == "beta") return pos ? d(Family::kHalfNormal, 1) : d(Family::kNormal, 0, 1);
  // Positive pooled effects: the hierarchy is on log beta, so these are log-scale priors.
  if (f == "beta_mu") return pos ? d(Family::kNormal, -1.5, 1.5) : d(Family::kNormal, 0, 1);
  if (f == "beta_sigma") return pos ? d(Family::kHalfNormal, 1) : d(Family::kHalfNormal, 0.5);
  if (f == "beta_tau") return d(Family::kHalfNormal, 0.5);
  if (f == "adstock_decay") return d(Family::kBeta, 1, 3);
  if (f == "adstock_peak") return d(Family::kFlat, 0);
  if (f == "hill_kappa") return d(Family::kGamma, 3, 3);
  if (f == "hill_slope") return d(Family::kGamma, 3, 1.5);
  if (f == "logistic_lambda") return d(Family::kGamma, 3, 1);
  if (f == "control") return d(Family::kNormal, 0, 1);
  if (f == "season") return d(Family::kNormal, 0, 0.5);
  if (f == "sigma") return d(Family::kHalfNormal, 0.5);
  if (f == "nu") return d(Family::kGamma, 2, 0.1);
  throw std::invalid_argument("unknown prior family " + f);
}

void fill_default_priors(ModelSpec& spec) {
  for (const auto& f : prior_family_names())
    if (!spec.priors.family.count(f))
      spec.priors.family[f] = default_prior(f, spec.media.effect_sign, spec.media.pooling.type);
}

const char* to_string(ScaleType v) {
  switch (v) {
    case ScaleType::kNone: return "none";
    case ScaleType::kMean: return "mean";
    case ScaleType::kMax: return "max";
  }
  return "?";
}
const char* to_string(ControlScale v) {
  switch (v) {
    case ControlScale::kNone: return "none";
    case ControlScale::kStd: return "std";
  }
  return "?";
}
const char* to_string(OutcomeKind v) {
  switch (v) {
    case OutcomeKind::kOther: return "other";
    case OutcomeKind::kRevenue: return "revenue";
    case OutcomeKind::kConversions: return "conversions";
  }
  return "?";
}
const char* to_string(AdstockType v) {
  switch (v) {
    case AdstockType::kNone: return "none";
    case AdstockType::kGeometric: return "geometric";
    case AdstockType::kDelayed: return "delayed";
  }
  return "?";
}
const char* to_string(SaturationType v) {
  switch (v) {
    case SaturationType::kLinear: return "linear";
    case SaturationType::kLog: return "log";
    case SaturationType::kHill: return "hill";
    case SaturationType::kLogistic: return "logistic";
  }
  return "?";
}
const char* to_string(LikelihoodType v) {
  switch (v) {
    case LikelihoodType::kNormal: return "normal";
    case LikelihoodType::kLognormal: return "lognormal";
    case LikelihoodType::kStudentT: return "student_t";
  }
  return "?";
}
const char* to_string(TrendType v) { return v == TrendType::kNone ? "none" : "linear"; }
const char* to_string(PoolingType v) {
  switch (v) {
    case PoolingType::kUnpooled: return "unpooled";
    case PoolingType::kCentered: return "centered";
    case PoolingType::kNoncentered: return "noncentered";
  }
  return "?";
}
const char* to_string(EffectSign v) { return v == EffectSign::kPositive ? "positive" : "free"; }

}  // namespace herd
