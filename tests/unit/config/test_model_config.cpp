// Model config parsing: the INTERFACE.md example, default resolution, to_toml round trips and
// one test per kind of input error (each asserting file, key path, position and expectation).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"

namespace herd {
namespace {

// Verbatim from INTERFACE.md "A model config".
const char* const kInterfaceExample = R"toml(name = "dtc_paid_social"                 # group name in the output file

[data]
path = "dtc_paid_social.csv"             # relative to this config file
date = "week"                            # ISO dates or integers, strictly increasing per panel
outcome = "conversions"
panel = "geo"                            # optional: long format, one row per (geo, week)
media_scale = "mean"                     # none | mean | max: each channel divided by it (active weeks)
outcome_scale = "none"                   # none | mean | max

[media]
channels = ["meta", "tiktok", "snap", "pinterest", "reddit", "linkedin_awareness"]
groups = { paid_social = ["meta", "tiktok", "snap", "pinterest", "reddit", "linkedin_awareness"] }
adstock = { type = "geometric", taps = 8, normalize = true }   # none | geometric | delayed
                                         # taps: weeks an effect lasts, lag 0 included
saturation = { type = "hill" }           # linear | log | hill | logistic
effect_sign = "positive"                 # positive | free
pooling = { type = "noncentered", multipliers = { linkedin_awareness = 0.05 } }  # unpooled | centered | noncentered

[controls]
columns = ["price", "promo"]

[seasonality]
period = 52.18
harmonics = 2

[trend]
type = "none"                            # none | linear

[likelihood]
type = "lognormal"                       # normal | lognormal (normal on log outcome) | student_t

[priors]                                 # family = "distribution(args)"
intercept = "normal(0.5, 0.5)"
beta = "normal(0, 0.1)"                  # media effects when unpooled
beta_mu = "normal(0, 0.1)"               # group mean when pooled
beta_sigma = "half_normal(0.1)"          # group scale when pooled
adstock_decay = "beta(1, 3)"
hill_kappa = "gamma(3, 3)"
hill_slope = "gamma(3, 1.5)"
logistic_lambda = "gamma(3, 1)"
control = "normal(0, 1)"
season = "normal(0, 0.5)"
sigma = "half_normal(0.5)"
"beta[linkedin_awareness]" = "normal(0, 0.05)"   # per-channel override, any family

[[lift_tests]]                           # optional calibration
channel = "meta"
spend_before = 1000.0
spend_after = 1500.0
lift = 230.0
lift_sd = 40.0

[sampler]
algorithm = "nuts"                       # nuts | chees
chains = 4
warmup = 1000
draws = 1000
target_accept = 0.8
max_depth = 10
seed = 1
)toml";

// A minimal valid config; extra text appended by tests starts on line 6, inside [media].
const std::string kBase =
    "[data]\n"
    "path = \"d.csv\"\n"
    "outcome = \"sales\"\n"
    "[media]\n"
    "channels = [\"tv\", \"search\", \"social\"]\n";

const std::filesystem::path kBaseDir = "/cfg";

ModelSpec parse(const std::string& text) { return parse_model_config_text(text, "test.toml", kBaseDir); }

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

const std::string kExampleOverride = "\"beta[linkedin_awareness]\" = \"normal(0, 0.05)\"   # per-channel override, any family\n";

// The example as INTERFACE.md prints it: the contract, so it must parse verbatim.
std::string example_fixed() { return kInterfaceExample; }

// Parses `text` expecting an InputError whose message contains every one of `parts`.
void expect_error(const std::string& text, const std::vector<std::string>& parts) {
  try {
    parse(text);
    ADD_FAILURE() << "expected an InputError for:\n" << text;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("test.toml", 0), 0u) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

bool same(const Distribution& x, const Distribution& y) {
  return x.family == y.family && x.a == y.a && x.b == y.b && x.c == y.c;
}

void expect_same_priors(const std::map<std::string, Distribution>& x, const std::map<std::string, Distribution>& y) {
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [k, d] : x) {
    ASSERT_TRUE(y.count(k)) << k;
    EXPECT_TRUE(same(d, y.at(k))) << k << ": " << to_string(d) << " vs " << to_string(y.at(k));
  }
}

void expect_same_spec(const ModelSpec& a, const ModelSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.data.path, b.data.path);
  EXPECT_EQ(a.data.date, b.data.date);
  EXPECT_EQ(a.data.outcome, b.data.outcome);
  EXPECT_EQ(a.data.panel, b.data.panel);
  EXPECT_EQ(a.data.media_scale, b.data.media_scale);
  EXPECT_EQ(a.data.outcome_scale, b.data.outcome_scale);
  EXPECT_EQ(a.media.channels, b.media.channels);
  EXPECT_EQ(a.media.groups, b.media.groups);
  EXPECT_EQ(a.media.adstock.type, b.media.adstock.type);
  EXPECT_EQ(a.media.adstock.taps, b.media.adstock.taps);
  EXPECT_EQ(a.media.adstock.normalize, b.media.adstock.normalize);
  EXPECT_EQ(a.media.saturation, b.media.saturation);
  EXPECT_EQ(a.media.effect_sign, b.media.effect_sign);
  EXPECT_EQ(a.media.pooling.type, b.media.pooling.type);
  EXPECT_EQ(a.media.pooling.multipliers, b.media.pooling.multipliers);
  EXPECT_EQ(a.controls, b.controls);
  EXPECT_EQ(a.control_scale, b.control_scale);
  EXPECT_EQ(a.season_period, b.season_period);
  EXPECT_EQ(a.season_harmonics, b.season_harmonics);
  EXPECT_EQ(a.trend, b.trend);
  EXPECT_EQ(a.likelihood, b.likelihood);
  expect_same_priors(a.priors.family, b.priors.family);
  expect_same_priors(a.priors.overrides, b.priors.overrides);
  ASSERT_EQ(a.lift_tests.size(), b.lift_tests.size());
  for (size_t i = 0; i < a.lift_tests.size(); ++i) {
    EXPECT_EQ(a.lift_tests[i].channel, b.lift_tests[i].channel);
    EXPECT_EQ(a.lift_tests[i].spend_before, b.lift_tests[i].spend_before);
    EXPECT_EQ(a.lift_tests[i].spend_after, b.lift_tests[i].spend_after);
    EXPECT_EQ(a.lift_tests[i].lift, b.lift_tests[i].lift);
    EXPECT_EQ(a.lift_tests[i].lift_sd, b.lift_tests[i].lift_sd);
  }
  EXPECT_EQ(a.sampler.algorithm, b.sampler.algorithm);
  EXPECT_EQ(a.sampler.chains, b.sampler.chains);
  EXPECT_EQ(a.sampler.warmup, b.sampler.warmup);
  EXPECT_EQ(a.sampler.draws, b.sampler.draws);
  EXPECT_EQ(a.sampler.target_accept, b.sampler.target_accept);
  EXPECT_EQ(a.sampler.max_depth, b.sampler.max_depth);
  EXPECT_EQ(a.sampler.metric, b.sampler.metric);
  EXPECT_EQ(a.sampler.seed, b.sampler.seed);
  EXPECT_EQ(a.warnings, b.warnings);
}

void expect_round_trip(const ModelSpec& s) {
  const std::string text = to_toml(s);
  SCOPED_TRACE(text);
  ModelSpec back;
  ASSERT_NO_THROW(back = parse_model_config_text(text, s.source, "/elsewhere"));
  expect_same_spec(s, back);
  EXPECT_EQ(to_toml(back), text);  // writing is deterministic
}

bool has_warning(const ModelSpec& s, const std::string& part) {
  for (const auto& w : s.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------

TEST(ModelConfig, InterfaceExampleVerbatimKeepsOverrideAndLiftTest) {
  // The example overrides beta of a pooled channel (an extra prior factor on that effect, on
  // top of the hierarchy) and combines [[lift_tests]] with the lognormal likelihood (a
  // multiplicative lift at the average week): both are kept, not rejected.
  const ModelSpec s = parse(kInterfaceExample);
  ASSERT_EQ(s.priors.overrides.count("beta[linkedin_awareness]"), 1u);
  EXPECT_EQ(to_string(s.priors.overrides.at("beta[linkedin_awareness]")), "normal(0, 0.05)");
  EXPECT_EQ(s.likelihood, LikelihoodType::kLognormal);
  ASSERT_EQ(s.lift_tests.size(), 1u);
  EXPECT_EQ(s.lift_tests[0].channel, "meta");
}

TEST(ModelConfig, InterfaceExampleParses) {
  const ModelSpec s = parse(example_fixed());
  EXPECT_EQ(s.name, "dtc_paid_social");
  EXPECT_EQ(s.source, "test.toml");
  EXPECT_EQ(s.data.path, "/cfg/dtc_paid_social.csv");
  EXPECT_EQ(s.data.date, "week");
  EXPECT_EQ(s.data.outcome, "conversions");
  EXPECT_EQ(s.data.panel, "geo");
  EXPECT_EQ(s.data.media_scale, ScaleType::kMean);
  EXPECT_EQ(s.data.outcome_scale, ScaleType::kNone);
  const std::vector<std::string> channels = {"meta", "tiktok", "snap", "pinterest", "reddit", "linkedin_awareness"};
  EXPECT_EQ(s.media.channels, channels);
  ASSERT_EQ(s.media.groups.size(), 1u);
  EXPECT_EQ(s.media.groups[0].first, "paid_social");
  EXPECT_EQ(s.media.groups[0].second, channels);
  EXPECT_EQ(s.media.adstock.type, AdstockType::kGeometric);
  EXPECT_EQ(s.media.adstock.taps, 8);
  EXPECT_TRUE(s.media.adstock.normalize);
  EXPECT_EQ(s.media.saturation, SaturationType::kHill);
  EXPECT_EQ(s.media.effect_sign, EffectSign::kPositive);
  EXPECT_EQ(s.media.pooling.type, PoolingType::kNoncentered);
  EXPECT_EQ(s.media.pooling.multipliers, (std::map<std::string, double>{{"linkedin_awareness", 0.05}}));
  EXPECT_EQ(s.controls, (std::vector<std::string>{"price", "promo"}));
  EXPECT_EQ(s.season_period, 52.18);
  EXPECT_EQ(s.season_harmonics, 2);
  EXPECT_EQ(s.trend, TrendType::kNone);
  EXPECT_EQ(s.likelihood, LikelihoodType::kLognormal);
  EXPECT_TRUE(same(s.priors.family.at("intercept"), {Family::kNormal, 0.5, 0.5, 0}));
  EXPECT_TRUE(same(s.priors.family.at("beta"), {Family::kNormal, 0, 0.1, 0}));
  EXPECT_TRUE(same(s.priors.family.at("beta_sigma"), {Family::kHalfNormal, 0.1, 0, 0}));
  EXPECT_TRUE(same(s.priors.family.at("hill_slope"), {Family::kGamma, 3, 1.5, 0}));
  EXPECT_EQ(s.priors.family.size(), prior_family_names().size());
  EXPECT_EQ(s.priors.overrides.size(), 1u);
  ASSERT_EQ(s.lift_tests.size(), 1u);
  EXPECT_EQ(s.lift_tests[0].channel, "meta");
  EXPECT_EQ(s.lift_tests[0].spend_before, 1000.0);
  EXPECT_EQ(s.lift_tests[0].spend_after, 1500.0);
  EXPECT_EQ(s.lift_tests[0].lift, 230.0);
  EXPECT_EQ(s.lift_tests[0].lift_sd, 40.0);
  EXPECT_EQ(s.sampler.algorithm, Algorithm::kNuts);
  EXPECT_EQ(s.sampler.chains, 4);
  EXPECT_EQ(s.sampler.warmup, 1000);
  EXPECT_EQ(s.sampler.draws, 1000);
  EXPECT_EQ(s.sampler.target_accept, 0.8);
  EXPECT_EQ(s.sampler.max_depth, 10);
  EXPECT_EQ(s.sampler.metric, MetricKind::kPooled);
  EXPECT_EQ(s.sampler.seed, 1u);
  // beta (normal, real support) is accepted because every channel is pooled; it is unused.
  EXPECT_TRUE(has_warning(s, "priors.beta`")) << ::testing::PrintToString(s.warnings);
}

TEST(ModelConfig, BetaSupportCheckedOnlyWithUnpooledChannels) {
  // Every channel pooled: the family-wide beta reaches no parameter, so a real prior is fine.
  const std::string pooled = kBase + "groups = { g = [\"tv\", \"search\", \"social\"] }\n"
                                     "pooling = { type = \"noncentered\" }\n[priors]\nbeta = \"normal(0, 0.1)\"\n";
  EXPECT_NO_THROW(parse(pooled));
  // One channel left out of the group is unpooled, so beta must have positive support.
  const std::string one_unpooled = replace(pooled, "g = [\"tv\", \"search\", \"social\"]", "g = [\"tv\", \"search\"]");
  expect_error(one_unpooled, {"test.toml:9:1:", "priors.beta", "\"normal(0, 0.1)\"", "(0, inf)",
                              "positive-support prior", "effect_sign = \"free\""});
  // Same prior with free effects: beta lives on the real line.
  EXPECT_NO_THROW(parse(replace(one_unpooled, "[priors]", "effect_sign = \"free\"\n[priors]")));
}

TEST(ModelConfig, BetaPriorRealSupportUnderPositiveEffectsIsAnError) {
  expect_error(kBase + "[priors]\nbeta = \"normal(0, 0.1)\"\n",
               {"test.toml:7:1:", "priors.beta", "positive-support prior", "effect_sign = \"free\""});
  // Per-channel overrides obey the same rule.
  expect_error(kBase + "[priors]\n\"beta[tv]\" = \"student_t(3, 0, 1)\"\n",
               {"test.toml:7:", "priors.beta[tv]", "positive-support prior"});
  EXPECT_NO_THROW(parse(kBase + "[priors]\nbeta = \"lognormal(0, 1)\"\n\"beta[tv]\" = \"flat()\"\n"));
  // Free effects live on the real line, where a positive-support prior is the wrong one.
  expect_error(kBase + "effect_sign = \"free\"\n[priors]\nbeta = \"half_normal(1)\"\n",
               {"test.toml:8:1:", "priors.beta", "the real line"});
}

TEST(ModelConfig, DefaultsResolved) {
  const ModelSpec s = parse(kBase);
  EXPECT_EQ(s.name, "model");
  EXPECT_EQ(s.data.date, "week");
  EXPECT_EQ(s.data.panel, "");
  EXPECT_EQ(s.data.media_scale, ScaleType::kMean);
  EXPECT_EQ(s.media.adstock.type, AdstockType::kNone);
  EXPECT_EQ(s.media.pooling.type, PoolingType::kUnpooled);
  EXPECT_EQ(s.likelihood, LikelihoodType::kNormal);
  EXPECT_EQ(s.sampler.chains, 4);
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_TRUE(s.priors.overrides.empty());
  for (const auto& f : prior_family_names()) {
    ASSERT_TRUE(s.priors.family.count(f)) << f;
    EXPECT_TRUE(same(s.priors.family.at(f), default_prior(f, EffectSign::kPositive, PoolingType::kUnpooled))) << f;
  }
  const ModelSpec free = parse(kBase + "effect_sign = \"free\"\n");
  for (const auto& f : prior_family_names())
    EXPECT_TRUE(same(free.priors.family.at(f), default_prior(f, EffectSign::kFree, PoolingType::kUnpooled))) << f;
  // The beta default follows the sign: positive support only for positive effects.
  EXPECT_EQ(s.priors.family.at("beta").family, Family::kHalfNormal);
  EXPECT_EQ(free.priors.family.at("beta").family, Family::kNormal);
}

TEST(ModelConfig, GroupsKeepFileOrder) {
  const ModelSpec inl = parse(kBase + "groups = { zeta = [\"tv\"], alpha = [\"social\", \"search\"] }\n");
  ASSERT_EQ(inl.media.groups.size(), 2u);
  EXPECT_EQ(inl.media.groups[0].first, "zeta");
  EXPECT_EQ(inl.media.groups[1].first, "alpha");
  EXPECT_EQ(inl.media.groups[1].second, (std::vector<std::string>{"social", "search"}));
  const ModelSpec tbl = parse(kBase + "[media.groups]\nmid = [\"search\"]\nzeta = [\"tv\"]\nalpha = [\"social\"]\n");
  ASSERT_EQ(tbl.media.groups.size(), 3u);
  EXPECT_EQ(tbl.media.groups[0].first, "mid");
  EXPECT_EQ(tbl.media.groups[1].first, "zeta");
  EXPECT_EQ(tbl.media.groups[2].first, "alpha");
}

TEST(ModelConfig, RelativeDataPathResolved) {
  const std::string rel = replace(kBase, "\"d.csv\"", "\"../data/./x.csv\"");
  EXPECT_EQ(parse_model_config_text(rel, "t", "/a/b/configs").data.path, "/a/b/data/x.csv");
  EXPECT_EQ(parse_model_config_text(rel, "t", "").data.path, "../data/x.csv");
  const std::string abs = replace(kBase, "\"d.csv\"", "\"/srv/x/../d.csv\"");
  EXPECT_EQ(parse_model_config_text(abs, "t", "/a/b").data.path, "/srv/d.csv");
}

TEST(ModelConfig, ToTomlRoundTrips) {
  expect_round_trip(parse(kBase));
  expect_round_trip(parse(example_fixed()));
  // Everything non-default at once, with names that need quoting and inexact doubles.
  const ModelSpec busy = parse(R"toml(name = "busy model"
[data]
path = "/data/with space/d.csv"
date = "day"
outcome = "revenue"
panel = "geo"
media_scale = "max"
outcome_scale = "max"
[media]
channels = ["tv spend", "search", "social.paid", "radio", "quo\"te"]
groups = { "video & audio" = ["tv spend", "radio"], social = ["social.paid"] }
adstock = { type = "delayed", taps = 13, normalize = false }
saturation = { type = "logistic" }
effect_sign = "free"
pooling = { type = "centered", multipliers = { "tv spend" = 0.30000000000000004, radio = 2 } }
[controls]
columns = ["price", "promo"]
scale = "std"
[seasonality]
period = 7
harmonics = 3
[trend]
type = "linear"
[likelihood]
type = "student_t"
[priors]
nu = "gamma(2, 0.25)"
adstock_peak = "half_normal(3)"
"adstock_peak[radio]" = "flat()"
"season[cos3]" = "normal(0, 0.1)"
"control[promo]" = "student_t(4, 0, 2.5)"
"beta_sigma[social]" = "half_student_t(3, 0.2)"
"beta[quo\"te]" = "normal(1e-3, 1e+3)"
hill_kappa = "gamma(2, 2)"
intercept = "normal(0.30000000000000004, 1e-7)"
[[lift_tests]]
channel = "search"
spend_before = 0
spend_after = 250.5
lift = -12.25
lift_sd = 3
[[lift_tests]]
channel = "tv spend"
spend_before = 100
spend_after = 50
lift = 0.1
lift_sd = 0.2
[sampler]
algorithm = "chees"
chains = 8
warmup = 0
draws = 1
target_accept = 0.95
max_depth = 15
seed = 9007199254740993
)toml");
  EXPECT_TRUE(has_warning(busy, "hill_kappa"));
  EXPECT_EQ(busy.control_scale, ControlScale::kStd);
  EXPECT_EQ(busy.media.groups[0].first, "video & audio");
  expect_round_trip(busy);
  // Built in code rather than parsed, with defaults filled the documented way.
  ModelSpec code;
  code.name = "coded";
  code.source = "<string>";
  code.data.path = "/x/y.csv";
  code.data.outcome = "y";
  code.media.channels = {"a", "b"};
  code.media.groups = {{"g2", {"b"}}, {"g1", {"a"}}};
  code.media.pooling.type = PoolingType::kNoncentered;
  code.media.adstock.type = AdstockType::kGeometric;
  code.season_period = 365.25;
  code.season_harmonics = 1;
  fill_default_priors(code);
  expect_round_trip(code);
}

TEST(ModelConfig, ControlScaleDefaultsToNoneAndWarnsWithoutControls) {
  EXPECT_EQ(parse(kBase).control_scale, ControlScale::kNone);
  EXPECT_TRUE(parse(kBase).warnings.empty());
  const ModelSpec s = parse(kBase + "[controls]\nscale = \"std\"\n");
  EXPECT_EQ(s.control_scale, ControlScale::kStd);
  EXPECT_TRUE(has_warning(s, "controls.scale is set but there are no controls.columns"));
  EXPECT_TRUE(has_warning(parse(kBase + "[controls]\ncolumns = []\nscale = \"std\"\n"), "no effect"));
}

TEST(ModelConfig, WarnsAboutPriorsTheModelDoesNotUse) {
  const ModelSpec s = parse(kBase + "saturation = { type = \"logistic\" }\n[priors]\n"
                                    "hill_kappa = \"gamma(2, 2)\"\nnu = \"gamma(3, 1)\"\n"
                                    "adstock_peak = \"half_normal(2)\"\ntrend = \"normal(0, 3)\"\n"
                                    "beta_mu = \"normal(0, 3)\"\nlogistic_lambda = \"gamma(2, 1)\"\n");
  EXPECT_TRUE(has_warning(s, "hill_kappa")) << ::testing::PrintToString(s.warnings);
  EXPECT_TRUE(has_warning(s, "priors.nu"));
  EXPECT_TRUE(has_warning(s, "adstock_peak"));
  EXPECT_TRUE(has_warning(s, "priors.trend"));
  EXPECT_TRUE(has_warning(s, "beta_mu"));
  EXPECT_FALSE(has_warning(s, "logistic_lambda"));  // used with logistic saturation
  EXPECT_EQ(s.warnings.size(), 5u);
  const ModelSpec g = parse(kBase + "groups = { g = [\"tv\"] }\npooling = { multipliers = { tv = 2 } }\n");
  EXPECT_TRUE(has_warning(g, "groups have no effect")) << ::testing::PrintToString(g.warnings);
  EXPECT_TRUE(has_warning(g, "multipliers.tv"));
  // Restating a default (as to_toml does for every family) is not worth a warning.
  EXPECT_TRUE(parse(kBase + "[priors]\nhill_kappa = \"gamma(3, 3)\"\n").warnings.empty());
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(ModelConfigErrors, MalformedDistribution) {
  expect_error(kBase + "[priors]\nintercept = \"normal(0,)\"\n",
               {"test.toml:7:13:", "priors.intercept", "missing argument", "normal(mu, sd)"});
  expect_error(kBase + "adstock = { type = \"geometric\" }\n[priors]\nadstock_decay = \"beta(-1, 2)\"\n",
               {"test.toml:8:", "priors.adstock_decay", "a must be > 0", "beta(a, b)"});
  expect_error(kBase + "[priors]\nsigma = \"cauchy(0, 1)\"\n", {"test.toml:7:", "priors.sigma", "unknown distribution"});
  expect_error(kBase + "[priors]\nsigma = 0.5\n", {"test.toml:7:", "priors.sigma", "expected a string"});
}

TEST(ModelConfigErrors, UnknownKey) {
  expect_error(kBase + "adstock = { type = \"geometric\", lags = 3 }\n",
               {"test.toml:6:33:", "unknown key `media.adstock.lags`", "type, taps, normalize"});
  expect_error("nmae = \"x\"\n" + kBase, {"test.toml:1:1:", "unknown key `nmae`", "name, data, media"});
  expect_error(kBase + "colour = 1\n", {"test.toml:6:1:", "unknown key `media.colour`", "channels, groups"});
  expect_error(kBase + "[sampler]\nthin = 2\n", {"test.toml:7:1:", "unknown key `sampler.thin`", "max_depth"});
  expect_error(kBase + "saturation = { type = \"hill\", kappa = 1 }\n", {"media.saturation.kappa", "type"});
  expect_error(kBase + "pooling = { type = \"unpooled\", scale = 1 }\n", {"media.pooling.scale", "multipliers"});
  expect_error(kBase + "[[lift_tests]]\nchannel = \"tv\"\nspend = 1\n",
               {"test.toml:8:1:", "unknown key `lift_tests[0].spend`", "spend_before"});
  expect_error(kBase + "[priors]\nbetta = \"normal(0, 1)\"\n",
               {"test.toml:7:1:", "priors.betta", "unknown prior family", "hill_kappa"});
}

TEST(ModelConfigErrors, WrongType) {
  expect_error(kBase + "[sampler]\nchains = 2.5\n",
               {"test.toml:7:10:", "sampler.chains", "expected an integer", "found a floating-point number 2.5"});
  expect_error(kBase + "adstock = { taps = \"8\" }\n",
               {"test.toml:6:", "media.adstock.taps", "expected an integer", "found a string"});
  expect_error(kBase + "adstock = { normalize = 1 }\n", {"media.adstock.normalize", "expected a boolean", "integer"});
  expect_error(replace(kBase, "[\"tv\", \"search\", \"social\"]", "\"tv\""),
               {"test.toml:5:12:", "media.channels", "expected an array of strings", "found a string"});
  expect_error(replace(kBase, "\"search\"", "3"), {"test.toml:5:", "media.channels[1]", "expected a string", "integer 3"});
  expect_error(kBase + "adstock = \"geometric\"\n", {"test.toml:6:", "media.adstock", "expected a table"});
  expect_error("data = 1\n", {"test.toml:1:", "`data`", "expected a table"});
  // Integers are fine where a float is expected.
  EXPECT_EQ(parse(kBase + "[seasonality]\nperiod = 52\n").season_period, 52.0);
}

TEST(ModelConfigErrors, UnknownChannelInGroups) {
  expect_error(kBase + "groups = { g = [\"tv\", \"radio\"] }\n",
               {"test.toml:6:", "media.groups.g", "unknown channel \"radio\"", "\"tv\", \"search\", \"social\""});
}

TEST(ModelConfigErrors, UnknownChannelInMultipliers) {
  expect_error(kBase + "pooling = { multipliers = { radio = 0.5 } }\n",
               {"test.toml:6:", "media.pooling.multipliers.radio", "unknown channel \"radio\"", "\"search\""});
  expect_error(kBase + "pooling = { multipliers = { tv = 0 } }\n",
               {"media.pooling.multipliers.tv", "expected a number > 0", "integer 0"});
}

TEST(ModelConfigErrors, UnknownLabelInPriors) {
  expect_error(kBase + "[priors]\n\"hill_kappa[radio]\" = \"gamma(2, 2)\"\n",
               {"test.toml:7:1:", "priors.hill_kappa[radio]", "unknown channel \"radio\"", "\"social\""});
  expect_error(kBase + "[seasonality]\nharmonics = 1\n[priors]\n\"season[sin2]\" = \"normal(0, 1)\"\n",
               {"test.toml:9:", "priors.season[sin2]", "unknown season term", "\"sin1\", \"cos1\""});
  expect_error(kBase + "[controls]\ncolumns = [\"price\"]\n[priors]\n\"control[promo]\" = \"normal(0, 1)\"\n",
               {"priors.control[promo]", "unknown control column", "\"price\""});
  expect_error(kBase + "[priors]\n\"beta_mu[g]\" = \"normal(0, 1)\"\n", {"priors.beta_mu[g]", "unknown group", "(none)"});
  expect_error(kBase + "[priors]\n\"sigma[tv]\" = \"half_normal(1)\"\n", {"priors.sigma[tv]", "takes no label"});
}

TEST(ModelConfigErrors, UnknownChannelInLiftTest) {
  expect_error(kBase + "[[lift_tests]]\nchannel = \"radio\"\nspend_before = 1\nspend_after = 2\nlift = 1\nlift_sd = 1\n",
               {"test.toml:7:11:", "lift_tests[0].channel", "unknown channel \"radio\"", "\"tv\""});
}

TEST(ModelConfigErrors, BadLiftTestValues) {
  const std::string lt = kBase + "[[lift_tests]]\nchannel = \"tv\"\nspend_before = 10\nspend_after = 20\n"
                                 "lift = 5\nlift_sd = 1\n";
  EXPECT_NO_THROW(parse(lt));
  expect_error(replace(lt, "spend_after = 20", "spend_after = 10"),
               {"test.toml:9:15:", "lift_tests[0].spend_after", "different from spend_before (10.0)"});
  expect_error(replace(lt, "lift_sd = 1", "lift_sd = 0"), {"test.toml:11:", "lift_tests[0].lift_sd", "> 0"});
  expect_error(replace(lt, "spend_before = 10", "spend_before = -1"), {"lift_tests[0].spend_before", ">= 0"});
  expect_error(replace(lt, "lift = 5\n", ""), {"missing required key `lift_tests[0].lift`"});
  const std::string log_lt = replace(lt, "[[lift_tests]]", "saturation = { type = \"log\" }\n[[lift_tests]]");
  expect_error(replace(log_lt, "spend_before = 10", "spend_before = 0"), {"test.toml:7:", "lift_tests[0]", "log saturation needs spend_before and spend_after > 0"});
  EXPECT_NO_THROW(parse(log_lt));
  EXPECT_NO_THROW(parse(lt + "[likelihood]\ntype = \"lognormal\"\n"));  // a multiplicative lift
}

TEST(ModelConfigErrors, DuplicateChannel) {
  expect_error(replace(kBase, "\"social\"]", "\"tv\"]"), {"test.toml:5:", "media.channels", "duplicate channel \"tv\""});
  expect_error(replace(kBase, "\"social\"]", "\"\"]"), {"media.channels[2]", "non-empty string"});
  expect_error(replace(kBase, "[\"tv\", \"search\", \"social\"]", "[]"), {"media.channels", "non-empty array"});
  expect_error(kBase + "[controls]\ncolumns = [\"price\", \"price\"]\n", {"controls.columns", "duplicate column"});
  expect_error(kBase + "[controls]\ncolumns = [\"price\"]\nscale = \"max\"\n",
               {"test.toml:8:", "controls.scale", "one of \"none\", \"std\"", "\"max\""});
  expect_error(kBase + "[controls]\ncolumns = [\"tv\"]\n", {"test.toml:7:", "controls.columns", "media channel"});
}

TEST(ModelConfigErrors, ChannelInTwoGroups) {
  expect_error(kBase + "[media.groups]\na = [\"tv\", \"search\"]\nb = [\"social\", \"tv\"]\n",
               {"test.toml:8:", "media.groups.b", "\"tv\" is already in group \"a\""});
}

TEST(ModelConfigErrors, PoolingWithoutGroups) {
  expect_error(kBase + "pooling = { type = \"noncentered\" }\n",
               {"test.toml:6:", "media.pooling.type", "needs channel groups", "media.groups"});
}

TEST(ModelConfigErrors, BadEnumValue) {
  expect_error(kBase + "adstock = { type = \"weibull\" }\n",
               {"test.toml:6:20:", "media.adstock.type", "one of \"none\", \"geometric\", \"delayed\"", "\"weibull\""});
  expect_error(kBase + "[likelihood]\ntype = \"poisson\"\n", {"likelihood.type", "\"student_t\"", "\"poisson\""});
  expect_error(kBase + "effect_sign = \"negative\"\n", {"media.effect_sign", "\"positive\", \"free\""});
  expect_error(replace(kBase, "[media]", "media_scale = \"sum\"\n[media]"), {"data.media_scale", "\"max\""});
  expect_error(kBase + "[sampler]\nalgorithm = \"hmc\"\n", {"sampler.algorithm", "\"nuts\", \"chees\""});
}

TEST(ModelConfigErrors, OutOfRangeNumbers) {
  expect_error(kBase + "adstock = { taps = 0 }\n", {"media.adstock.taps", "an integer in 1..104", "found 0"});
  expect_error(kBase + "adstock = { taps = 105 }\n", {"media.adstock.taps", "1..104"});
  expect_error(kBase + "adstock = { type = \"delayed\", taps = 1 }\n", {"media.adstock.taps", "taps >= 2"});
  expect_error(kBase + "[seasonality]\nperiod = 0\n", {"test.toml:7:", "seasonality.period", "> 0"});
  expect_error(kBase + "[seasonality]\nharmonics = -1\n", {"seasonality.harmonics", "0..100"});
  expect_error(kBase + "[sampler]\ntarget_accept = 1\n", {"sampler.target_accept", "(0, 1)"});
  expect_error(kBase + "[sampler]\nmax_depth = 16\n", {"sampler.max_depth", "1..15"});
  expect_error(kBase + "[sampler]\nseed = -1\n", {"sampler.seed", ">= 0"});
  expect_error(kBase + "[sampler]\nchains = 0\n", {"sampler.chains", "1..1024"});
  expect_error(kBase + "[sampler]\nseed = nan\n", {"sampler.seed", "expected an integer"});
  expect_error(kBase + "[seasonality]\nperiod = inf\n", {"seasonality.period", "> 0", "inf"});
}

TEST(ModelConfigErrors, PriorNotCoveringSupport) {
  expect_error(kBase + "groups = { g = [\"tv\"] }\npooling = { type = \"centered\" }\n[priors]\nbeta_mu = \"half_normal(1)\"\n",
               {"test.toml:9:", "priors.beta_mu", "the real line", "(0, inf)"});
  expect_error(kBase + "adstock = { type = \"delayed\", taps = 8 }\n[priors]\nadstock_peak = \"beta(2, 2)\"\n",
               {"test.toml:8:", "priors.adstock_peak", "(0, 7)", "(0, 1)"});
  expect_error(kBase + "[controls]\ncolumns = [\"p\"]\n[priors]\n\"control[p]\" = \"exponential(1)\"\n",
               {"priors.control[p]", "the real line"});
  EXPECT_NO_THROW(parse(kBase + "[priors]\nintercept = \"flat()\"\nadstock_decay = \"flat()\"\nsigma = \"flat()\"\n"));
}

TEST(ModelConfigErrors, BetaOverrideOfPooledChannel) {
  // On a pooled channel the override is an extra factor on the (positive) effect: a normal is
  // accepted as a truncated normal there, a prior that cannot cover (0, inf) is not.
  const ModelSpec s = parse(kBase + "groups = { g = [\"tv\", \"search\"] }\npooling = { type = \"centered\" }\n"
                                    "[priors]\n\"beta[tv]\" = \"normal(0.2, 0.05)\"\n");
  EXPECT_EQ(to_string(s.priors.overrides.at("beta[tv]")), "normal(0.2, 0.05)");
  expect_error(kBase + "groups = { g = [\"tv\", \"search\"] }\npooling = { type = \"centered\" }\n"
                       "[priors]\n\"beta[tv]\" = \"beta(2, 2)\"\n",
               {"test.toml:9:", "priors.beta[tv]", "(0, inf)"});
  // An unpooled channel with positive effects still needs a positive-support prior.
  expect_error(kBase + "groups = { g = [\"tv\", \"search\"] }\npooling = { type = \"centered\" }\n"
                       "[priors]\n\"beta[social]\" = \"normal(0, 1)\"\n",
               {"test.toml:9:", "priors.beta[social]", "positive-support"});
  EXPECT_NO_THROW(parse(kBase + "groups = { g = [\"tv\", \"search\"] }\npooling = { type = \"centered\" }\n"
                                "[priors]\n\"beta[social]\" = \"half_normal(1)\"\n"));
}

TEST(ModelConfigErrors, MissingRequiredKeys) {
  expect_error(replace(kBase, "path = \"d.csv\"\n", ""), {"test.toml:1:1:", "missing required key `data.path`"});
  expect_error(replace(kBase, "outcome = \"sales\"\n", ""), {"missing required key `data.outcome`"});
  expect_error(replace(kBase, "channels = [\"tv\", \"search\", \"social\"]\n", ""),
               {"test.toml:4:", "missing required key `media.channels`"});
  expect_error("[media]\nchannels = [\"tv\"]\n", {"missing required key `data.path`"});
  expect_error("[data]\npath = \"x\"\noutcome = \"y\"\n", {"missing required key `media.channels`"});
}

TEST(ModelConfigErrors, TomlSyntaxError) {
  expect_error(kBase + "adstock = { type = \"geometric\"\n", {"test.toml:6:", "TOML syntax error"});
  expect_error("[data]\npath = \"a\"\npath = \"b\"\n", {"test.toml:3:", "TOML syntax error", "path"});
}

TEST(ModelConfigErrors, BadName) {
  expect_error("name = \"a/b\"\n" + kBase, {"test.toml:1:8:", "`name`", "without '/'"});
  expect_error("name = \"\"\n" + kBase, {"`name`", "non-empty string"});
}

// ---------------------------------------------------------------------------------------------
// Files

class ModelConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("herd_test_config_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "configs");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ModelConfigFile, ParsesRealFile) {
  const auto file = dir_ / "configs" / "brand_a.toml";
  std::ofstream(file) << replace(kBase, "\"d.csv\"", "\"../data/d.csv\"");
  const ModelSpec s = parse_model_config(file);
  EXPECT_EQ(s.name, "brand_a");  // the file's stem
  EXPECT_EQ(s.source, file.string());
  EXPECT_EQ(s.data.path, (dir_ / "data" / "d.csv").lexically_normal().string());
  // The resolved spec of a file round-trips from anywhere.
  const ModelSpec back = parse_model_config_text(to_toml(s), s.source, "/somewhere/else");
  expect_same_spec(s, back);
}

TEST_F(ModelConfigFile, ErrorsNameTheFile) {
  const auto file = dir_ / "bad.toml";
  std::ofstream(file) << kBase << "[sampler]\nchains = \"four\"\n";
  try {
    parse_model_config(file);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file.string() + ":7:10:", 0), 0u) << e.what();
  }
}

TEST_F(ModelConfigFile, MissingFile) {
  const auto file = dir_ / "nope.toml";
  try {
    parse_model_config(file);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace herd

namespace herd {
namespace {
TEST(ModelConfig, MetricScope) {
  const std::string base = "[data]\npath = \"d.csv\"\noutcome = \"sales\"\n[media]\nchannels = [\"tv\"]\n[sampler]\n";
  EXPECT_EQ(parse_model_config_text(base + "metric = \"per_chain\"\n", "t.toml", "/").sampler.metric, MetricKind::kPerChain);
  try {
    parse_model_config_text(base + "metric = \"dense\"\n", "t.toml", "/");
    ADD_FAILURE() << "metric = dense accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.toml:7:10: `sampler.metric`"), std::string::npos) << e.what();
  }
}
}  // namespace
}  // namespace herd
