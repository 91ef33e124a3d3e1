#include "herd/config/model_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "herd/core/error.hpp"
#include "model_config_detail.hpp"
#include "herd/config/limits.hpp"
#include "herd/hmc/nuts.hpp"  // kMaxTreeDepth

namespace herd {
namespace {

// Shortest text that reads back to the same double, spelled as a TOML float.
std::string toml_double(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // 'n' of inf/nan: already a TOML float
  return s;
}

bool same_distribution(const Distribution& x, const Distribution& y) {
  return x.family == y.family && x.a == y.a && x.b == y.b && x.c == y.c;
}

using detail::comma_list;
using detail::contains;
using detail::describe;
using detail::in_quotes;
using detail::join_path;
using detail::Keys;
using detail::Reader;

bool positive(double v) { return v > 0; }
bool non_negative(double v) { return v >= 0; }
bool any_number(double) { return true; }
bool open_unit(double v) { return v > 0 && v < 1; }

// ---------------------------------------------------------------------------------------------
// Sections

}  // namespace

std::string model_name_problem(const std::string& name) {
  if (name.find('/') != std::string::npos) return "expected a name without '/', found " + in_quotes(name);
  // "." and ".." are the group itself and its parent in HDF5 paths.
  if (name == "." || name == "..") return in_quotes(name) + " cannot name a model";
  if (name.size() > kMaxNameLength)
    return "at most " + std::to_string(kMaxNameLength) + " characters, found " + std::to_string(name.size());
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a name cannot hold control characters";
  return "";
}

namespace {

void read_name(const Reader& r, const toml::table& root, ModelSpec& spec) {
  const toml::node* n = root.get("name");
  if (!n) return;
  spec.name = r.nonempty_string(*n, "name");
  // The name becomes an HDF5 group; a slash would silently nest it.
  const std::string problem = model_name_problem(spec.name);
  if (!problem.empty()) r.fail(*n, "`name`: " + problem);
}

void read_data(const Reader& r, const toml::table& root, const std::filesystem::path& base_dir, DataSpec& d) {
  const toml::table* t = r.table(&root, "", "data");
  if (t) r.check_keys(*t, "data", {"path", "date", "outcome", "panel", "media_scale", "outcome_scale", "outcome_kind"});
  const std::filesystem::path p = r.nonempty_string(r.required(t, "data", "path"), "data.path");
  d.path = (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
  d.outcome = r.nonempty_string(r.required(t, "data", "outcome"), "data.outcome");
  if (const toml::node* n = t->get("date")) d.date = r.nonempty_string(*n, "data.date");
  if (const toml::node* n = t->get("panel")) d.panel = r.string(*n, "data.panel");  // "" = wide format
  const auto scales = {ScaleType::kNone, ScaleType::kMean, ScaleType::kMax};
  if (const toml::node* n = t->get("media_scale")) d.media_scale = r.choice(*n, "data.media_scale", scales);
  if (const toml::node* n = t->get("outcome_scale")) d.outcome_scale = r.choice(*n, "data.outcome_scale", scales);
  if (const toml::node* n = t->get("outcome_kind"))
    d.outcome_kind = r.choice(*n, "data.outcome_kind",
                              {OutcomeKind::kRevenue, OutcomeKind::kConversions, OutcomeKind::kOther});
}

[[noreturn]] void unknown_channel(const Reader& r, const toml::source_region& at, const std::string& path,
                                  const std::string& name, const MediaSpec& m) {
  r.fail(at, "`" + path + "`: unknown channel " + in_quotes(name) + "; media.channels are " +
                 comma_list(m.channels, true));
}

void read_adstock(const Reader& r, const toml::table* media, AdstockSpec& a) {
  const toml::table* t = r.table(media, "media", "adstock");
  if (!t) return;
  r.check_keys(*t, "media.adstock", {"type", "taps", "normalize"});
  if (const toml::node* n = t->get("type"))
    a.type = r.choice(*n, "media.adstock.type", {AdstockType::kNone, AdstockType::kGeometric, AdstockType::kDelayed});
  if (const toml::node* n = t->get("taps")) a.taps = r.small_int(*n, "media.adstock.taps", 1, 104);
  if (const toml::node* n = t->get("normalize")) a.normalize = r.boolean(*n, "media.adstock.normalize");
  // The peak lives on (0, taps - 1): with one tap there is nothing to delay.
  if (a.type == AdstockType::kDelayed && a.taps < 2)
    r.fail(*t, "`media.adstock.taps`: delayed adstock needs taps >= 2 (its peak lies in (0, taps - 1)), found " +
                   std::to_string(a.taps));
}

void read_saturation(const Reader& r, const toml::table* media, SaturationType& s) {
  const toml::table* t = r.table(media, "media", "saturation");
  if (!t) return;
  r.check_keys(*t, "media.saturation", {"type"});
  if (const toml::node* n = t->get("type"))
    s = r.choice(*n, "media.saturation.type",
                 {SaturationType::kLinear, SaturationType::kLog, SaturationType::kHill, SaturationType::kLogistic});
}

void read_groups(const Reader& r, const toml::table* media, MediaSpec& m) {
  const toml::table* t = r.table(media, "media", "groups");
  if (!t) return;
  std::map<std::string, std::string> group_of;
  for (const auto& [k, v] : Reader::in_file_order(*t)) {
    const std::string group(k->str());
    const std::string path = "media.groups." + group;
    if (group.empty()) r.fail(k->source(), "`media.groups`: expected a non-empty group name, found \"\"");
    std::vector<std::string> members = r.string_list(*v, path, "channel", false);
    const toml::array& arr = *v->as_array();
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string& ch = members[i];
      if (!contains(m.channels, ch)) unknown_channel(r, arr[i].source(), path, ch, m);
      if (auto it = group_of.find(ch); it != group_of.end())
        r.fail(arr[i], "`" + path + "`: channel " + in_quotes(ch) + " is already in group " + in_quotes(it->second) +
                           "; a channel belongs to at most one group");
      group_of[ch] = group;
    }
    m.groups.emplace_back(group, std::move(members));
  }
}

void read_pooling(const Reader& r, const toml::table* media, MediaSpec& m) {
  const toml::table* t = r.table(media, "media", "pooling");
  if (!t) return;
  r.check_keys(*t, "media.pooling", {"type", "multipliers"});
  if (const toml::node* n = t->get("type"))
    m.pooling.type = r.choice(*n, "media.pooling.type",
                              {PoolingType::kUnpooled, PoolingType::kCentered, PoolingType::kNoncentered});
  const toml::table* mult = r.table(t, "media.pooling", "multipliers");
  if (!mult) return;
  for (auto&& [k, v] : *mult) {
    const std::string ch(k.str());
    const std::string path = "media.pooling.multipliers." + ch;
    if (!contains(m.channels, ch)) unknown_channel(r, k.source(), path, ch, m);
    m.pooling.multipliers[ch] = r.number(v, path, positive, "a number > 0");
  }
}

void read_media(const Reader& r, const toml::table& root, MediaSpec& m) {
  const toml::table* t = r.table(&root, "", "media");
  if (t) r.check_keys(*t, "media", {"channels", "groups", "adstock", "saturation", "effect_sign", "pooling"});
  m.channels = r.string_list(r.required(t, "media", "channels"), "media.channels", "channel", false);
  read_adstock(r, t, m.adstock);
  read_saturation(r, t, m.saturation);
  if (const toml::node* n = t->get("effect_sign"))
    m.effect_sign = r.choice(*n, "media.effect_sign", {EffectSign::kPositive, EffectSign::kFree});
  read_groups(r, t, m);
  read_pooling(r, t, m);
  if (m.pooling.type != PoolingType::kUnpooled && m.groups.empty())
    r.fail(t->get("pooling")->source(),
           "`media.pooling.type`: pooling " + in_quotes(to_string(m.pooling.type)) +
               " needs channel groups; add `media.groups` (e.g. groups = { social = [\"meta\", \"tiktok\"] }) "
               "or set pooling type = \"unpooled\"");
}

void read_controls(const Reader& r, const toml::table& root, ModelSpec& spec) {
  const toml::table* t = r.table(&root, "", "controls");
  if (!t) return;
  r.check_keys(*t, "controls", {"columns", "scale"});
  if (const toml::node* n = t->get("scale"))
    spec.control_scale = r.choice(*n, "controls.scale", {ControlScale::kNone, ControlScale::kStd});
  const toml::node* n = t->get("columns");
  if (!n || (n->is_array() && n->as_array()->empty())) {
    if (spec.control_scale != ControlScale::kNone)
      spec.warnings.push_back("controls.scale is set but there are no controls.columns, so it has no effect");
    if (!n) return;
  }
  spec.controls = r.string_list(*n, "controls.columns", "column", true);
  const toml::array& arr = *n->as_array();
  for (size_t i = 0; i < spec.controls.size(); ++i)
    if (contains(spec.media.channels, spec.controls[i]))
      r.fail(arr[i], "`controls.columns`: " + in_quotes(spec.controls[i]) +
                         " is also a media channel; a column is either a channel or a control");
}

void read_small_sections(const Reader& r, const toml::table& root, ModelSpec& spec) {
  if (const toml::table* t = r.table(&root, "", "seasonality")) {
    r.check_keys(*t, "seasonality", {"period", "harmonics"});
    if (const toml::node* n = t->get("period"))
      spec.season_period = r.number(*n, "seasonality.period", positive, "a number > 0");
    if (const toml::node* n = t->get("harmonics")) {
      spec.season_harmonics = r.small_int(*n, "seasonality.harmonics", 0, kMaxHarmonics);
      // Past period / 2 a sine repeats a lower one with its sign flipped: not identifiable.
      const int nyquist = static_cast<int>(spec.season_period / 2);
      if (spec.season_harmonics > std::max(1, nyquist))
        r.fail(*n, "`seasonality.harmonics`: at most period / 2 = " + std::to_string(std::max(1, nyquist)) +
                       " for period " + toml_double(spec.season_period) + ", found " +
                       std::to_string(spec.season_harmonics));
    }
  }
  if (const toml::table* t = r.table(&root, "", "trend")) {
    r.check_keys(*t, "trend", {"type"});
    if (const toml::node* n = t->get("type"))
      spec.trend = r.choice(*n, "trend.type", {TrendType::kNone, TrendType::kLinear});
  }
  if (const toml::table* t = r.table(&root, "", "likelihood")) {
    r.check_keys(*t, "likelihood", {"type"});
    if (const toml::node* n = t->get("type"))
      spec.likelihood = r.choice(
          *n, "likelihood.type", {LikelihoodType::kNormal, LikelihoodType::kLognormal, LikelihoodType::kStudentT});
  }
}

void read_lift_test(const Reader& r, const toml::node& node, const std::string& path, const ModelSpec& spec,
                    LiftTest& lt) {
  if (!node.is_table()) r.wrong_type(node, path, "a table");
  const toml::table& t = *node.as_table();
  r.check_keys(t, path, {"channel", "spend_before", "spend_after", "lift", "lift_sd"});
  const toml::node& ch = r.required(&t, path, "channel");
  lt.channel = r.nonempty_string(ch, path + ".channel");
  if (!contains(spec.media.channels, lt.channel)) unknown_channel(r, ch.source(), path + ".channel", lt.channel, spec.media);
  lt.spend_before = r.number(r.required(&t, path, "spend_before"), path + ".spend_before", non_negative, "a number >= 0");
  const toml::node& after = r.required(&t, path, "spend_after");
  lt.spend_after = r.number(after, path + ".spend_after", non_negative, "a number >= 0");
  if (lt.spend_after == lt.spend_before)
    r.fail(after, "`" + path + ".spend_after`: expected a spend different from spend_before (" +
                      toml_double(lt.spend_before) + "); a lift test compares two spend levels");
  // log(x) of a zero spend is -inf; the model would reject it later without a line number.
  if (spec.media.saturation == SaturationType::kLog && (lt.spend_before <= 0 || lt.spend_after <= 0))
    r.fail(t, "`" + path + "`: log saturation needs spend_before and spend_after > 0 (it takes log of the spend); "
              "use hill or logistic saturation to calibrate from zero spend");
  lt.lift = r.number(r.required(&t, path, "lift"), path + ".lift", any_number, "a finite number");
  lt.lift_sd = r.number(r.required(&t, path, "lift_sd"), path + ".lift_sd", positive, "a number > 0");
}

void read_lift_tests(const Reader& r, const toml::table& root, ModelSpec& spec) {
  const toml::node* n = root.get("lift_tests");
  if (!n) return;
  if (!n->is_array()) r.wrong_type(*n, "lift_tests", "an array of tables ([[lift_tests]])");
  const toml::array& arr = *n->as_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    LiftTest lt;
    read_lift_test(r, arr[i], "lift_tests[" + std::to_string(i) + "]", spec, lt);
    spec.lift_tests.push_back(lt);
  }
}

void read_sampler(const Reader& r, const toml::table& root, SamplerSpec& s) {
  const toml::table* t = r.table(&root, "", "sampler");
  if (!t) return;
  r.check_keys(*t, "sampler",
               {"algorithm", "chains", "warmup", "draws", "target_accept", "max_depth", "seed", "metric"});
  if (const toml::node* n = t->get("metric"))
    s.metric = r.choice(*n, "sampler.metric", {MetricKind::kPooled, MetricKind::kPerChain});
  if (const toml::node* n = t->get("algorithm"))
    s.algorithm = r.choice(*n, "sampler.algorithm", {Algorithm::kNuts, Algorithm::kChees});
  if (const toml::node* n = t->get("chains")) s.chains = r.small_int(*n, "sampler.chains", 1, kMaxChains);
  if (const toml::node* n = t->get("warmup")) s.warmup = r.small_int(*n, "sampler.warmup", 0, kMaxIterations);
  if (const toml::node* n = t->get("draws")) s.draws = r.small_int(*n, "sampler.draws", 1, kMaxIterations);
  if (const toml::node* n = t->get("target_accept"))
    s.target_accept = r.number(*n, "sampler.target_accept", open_unit, "a number in (0, 1)");
  if (const toml::node* n = t->get("max_depth")) s.max_depth = r.small_int(*n, "sampler.max_depth", 1, kMaxTreeDepth);
  if (const toml::node* n = t->get("seed"))
    s.seed = static_cast<std::uint64_t>(r.integer(*n, "sampler.seed", 0, INT64_MAX));
}

// ---------------------------------------------------------------------------------------------
// Priors

enum class LabelKind { kNone, kChannel, kGroup, kControl, kSeason };

LabelKind label_kind(const std::string& family) {
  static const Keys channel = {"beta",       "beta_tau",   "adstock_decay",  "adstock_peak",
                               "hill_kappa", "hill_slope", "logistic_lambda"};
  if (contains(channel, family)) return LabelKind::kChannel;
  if (family == "beta_mu" || family == "beta_sigma") return LabelKind::kGroup;
  if (family == "control") return LabelKind::kControl;
  if (family == "season") return LabelKind::kSeason;
  return LabelKind::kNone;
}

std::vector<std::string> valid_labels(LabelKind kind, const ModelSpec& s) {
  std::vector<std::string> out;
  switch (kind) {
    case LabelKind::kChannel: return s.media.channels;
    case LabelKind::kGroup:
      for (const auto& g : s.media.groups) out.push_back(g.first);
      return out;
    case LabelKind::kControl: return s.controls;
    case LabelKind::kSeason:
      for (int h = 1; h <= s.season_harmonics; ++h) {
        out.push_back("sin" + std::to_string(h));
        out.push_back("cos" + std::to_string(h));
      }
      return out;
    case LabelKind::kNone: break;
  }
  return out;
}

const char* label_noun(LabelKind kind) {
  switch (kind) {
    case LabelKind::kChannel: return "channel";
    case LabelKind::kGroup: return "group";
    case LabelKind::kControl: return "control column";
    case LabelKind::kSeason: return "season term";
    case LabelKind::kNone: break;
  }
  return "label";
}

const std::string* group_of(const MediaSpec& m, const std::string& channel) {
  for (const auto& g : m.groups)
    if (contains(g.second, channel)) return &g.first;
  return nullptr;
}

bool is_pooled(const MediaSpec& m, const std::string& channel) {
  return m.pooling.type != PoolingType::kUnpooled && group_of(m, channel) != nullptr;
}

bool any_unpooled(const MediaSpec& m) {
  return std::any_of(m.channels.begin(), m.channels.end(), [&](const auto& c) { return !is_pooled(m, c); });
}

// Where each family's parameter lives on the constrained scale (mirrors the model builder).
Support parameter_support(const std::string& family, const ModelSpec& s) {
  const Support real{SupportKind::kReal, 0, 0}, pos{SupportKind::kPositive, 0, 0};
  if (family == "beta") return s.media.effect_sign == EffectSign::kPositive ? pos : real;
  if (family == "adstock_decay") return {SupportKind::kInterval, 0, 1};
  if (family == "adstock_peak") return {SupportKind::kInterval, 0, static_cast<double>(s.media.adstock.taps - 1)};
  static const Keys positive_families = {"beta_sigma", "beta_tau",        "hill_kappa", "hill_slope",
                                         "logistic_lambda", "sigma", "nu"};
  return contains(positive_families, family) ? pos : real;
}

std::string support_text(const Support& s) {
  std::ostringstream o;
  switch (s.kind) {
    case SupportKind::kReal: return "the real line";
    case SupportKind::kPositive: return "(0, inf)";
    case SupportKind::kInterval: o << "(" << s.lo << ", " << s.hi << ")"; return o.str();
  }
  return "?";
}

std::string support_advice(const Support& s) {
  switch (s.kind) {
    case SupportKind::kReal: return "use a prior on the real line (normal, student_t or flat)";
    case SupportKind::kPositive:
      return "use a positive-support prior (half_normal, lognormal, gamma, exponential, half_student_t) or flat()";
    case SupportKind::kInterval: return "use a prior that covers the interval (beta on (0, 1), a positive one, or flat())";
  }
  return "";
}

// Positive effects need a prior that lives on (0, inf) itself: a normal there would silently
// become a truncated normal, which is never what someone writing normal(0, 0.1) meant.
bool covers(const std::string& family, const Distribution& d, const Support& s, EffectSign sign) {
  if (family == "beta" && sign == EffectSign::kPositive)
    return d.family == Family::kFlat || family_support(d.family).kind == SupportKind::kPositive;
  return prior_covers(d, s);
}

struct UserPrior {
  std::string family, label;  // label empty for a family-wide prior
  Distribution dist;
  const toml::key* key;
};

void check_support(const Reader& r, const UserPrior& p, const ModelSpec& s) {
  const Support need = parameter_support(p.family, s);
  // On a pooled channel, beta[ch] is an extra prior factor on the effect on top of the
  // hierarchy (a soft constraint, e.g. from an experiment); a normal there is meant as a
  // truncated normal on a positive effect, so the plain coverage rule applies.
  const bool pooled_override = p.family == "beta" && !p.label.empty() && is_pooled(s.media, p.label);
  if (pooled_override ? prior_covers(p.dist, need) : covers(p.family, p.dist, need, s.media.effect_sign)) return;
  const std::string path = "priors." + std::string(p.key->str());
  std::string msg = "`" + path + "` = " + in_quotes(to_string(p.dist)) + ": " + p.family + " lives on " +
                    support_text(need) + " but the prior's support is " +
                    support_text(family_support(p.dist.family)) + "; ";
  if (p.family == "beta" && s.media.effect_sign == EffectSign::kPositive)
    msg += "with effect_sign = \"positive\" the effect of unpooled channels needs a positive-support prior "
           "(half_normal, lognormal, gamma, exponential, half_student_t); use one or set effect_sign = \"free\"";
  else
    msg += support_advice(need);
  r.fail(p.key->source(), msg);
}

UserPrior read_prior_entry(const Reader& r, const toml::key& k, const toml::node& v, const ModelSpec& s) {
  const std::string key(k.str());
  const std::string path = "priors." + key;
  UserPrior p{key, "", {}, &k};
  const auto open = key.find('[');
  if (open != std::string::npos && key.back() == ']') {
    p.family = key.substr(0, open);
    p.label = key.substr(open + 1, key.size() - open - 2);
  }
  if (!contains(prior_family_names(), p.family))
    r.fail(k.source(), "unknown key `" + path + "`: unknown prior family " + in_quotes(p.family) + "; families: " +
                           comma_list(prior_family_names()) + " (or \"family[label]\" for one element)");
  if (open != std::string::npos) {
    const LabelKind kind = label_kind(p.family);
    if (kind == LabelKind::kNone)
      r.fail(k.source(), "`" + path + "`: " + p.family + " is a single parameter and takes no label; write `" +
                             p.family + " = ...`");
    const std::vector<std::string> labels = valid_labels(kind, s);
    if (!contains(labels, p.label)) {
      if (kind == LabelKind::kChannel) unknown_channel(r, k.source(), path, p.label, s.media);
      r.fail(k.source(), "`" + path + "`: unknown " + label_noun(kind) + " " + in_quotes(p.label) + "; valid labels of " +
                             p.family + ": " + comma_list(labels, true));
    }
  }
  const std::string text = r.string(v, path);
  try {
    p.dist = parse_distribution(text);
  } catch (const std::invalid_argument& e) {
    r.fail(v, "`" + path + "`: " + e.what());
  }
  return p;
}

// Why a family plays no part in this model, or "" when it does.
std::string unused_reason(const std::string& f, const ModelSpec& s) {
  const MediaSpec& m = s.media;
  if (f == "trend" && s.trend == TrendType::kNone) return "trend type is \"none\"";
  if (f == "beta" && !any_unpooled(m)) return "every channel is pooled in a group (see beta_mu/beta_sigma)";
  if ((f == "beta_mu" || f == "beta_sigma") && (m.pooling.type == PoolingType::kUnpooled || m.groups.empty()))
    return "pooling is \"unpooled\" or there are no groups";
  if (f == "beta_tau" && s.data.panel.empty()) return "there is no data.panel (it scales per-geo effects)";
  if (f == "adstock_decay" && m.adstock.type == AdstockType::kNone) return "adstock type is \"none\"";
  if (f == "adstock_peak" && m.adstock.type != AdstockType::kDelayed) return "adstock type is not \"delayed\"";
  if ((f == "hill_kappa" || f == "hill_slope") && m.saturation != SaturationType::kHill)
    return "saturation type is not \"hill\"";
  if (f == "logistic_lambda" && m.saturation != SaturationType::kLogistic)
    return "saturation type is not \"logistic\"";
  if (f == "control" && s.controls.empty()) return "there are no controls.columns";
  if (f == "season" && s.season_harmonics == 0) return "seasonality.harmonics is 0";
  if (f == "nu" && s.likelihood != LikelihoodType::kStudentT) return "likelihood type is not \"student_t\"";
  return "";
}

void read_priors(const Reader& r, const toml::table& root, ModelSpec& spec) {
  std::vector<UserPrior> user;
  if (const toml::table* t = r.table(&root, "", "priors"))
    for (const auto& [k, v] : Reader::in_file_order(*t)) user.push_back(read_prior_entry(r, *k, *v, spec));

  for (const auto& f : prior_family_names())
    spec.priors.family[f] = default_prior(f, spec.media.effect_sign, spec.media.pooling.type);
  const bool beta_used = any_unpooled(spec.media);
  for (const auto& p : user) {
    // A family-wide beta only reaches unpooled channels; with none there is nothing to check.
    if (!p.label.empty() || p.family != "beta" || beta_used) check_support(r, p, spec);
    const std::string reason = unused_reason(p.family, spec);
    // Setting a family to its default is harmless (to_toml writes them all), so only a
    // deliberate, different choice for an unused family earns a warning.
    const bool is_default = p.label.empty() && same_distribution(p.dist, spec.priors.family[p.family]);
    if (!reason.empty() && !is_default)
      spec.warnings.push_back("prior `priors." + std::string(p.key->str()) + "` is set but not used by this model: " +
                              reason);
    if (p.label.empty())
      spec.priors.family[p.family] = p.dist;
    else
      spec.priors.overrides[p.family + "[" + p.label + "]"] = p.dist;
  }
}

void add_media_warnings(ModelSpec& spec) {
  const MediaSpec& m = spec.media;
  if (!m.groups.empty() && m.pooling.type == PoolingType::kUnpooled)
    spec.warnings.push_back("media.groups is set but pooling type is \"unpooled\", so the groups have no effect");
  for (const auto& [ch, s] : m.pooling.multipliers)
    if (!is_pooled(m, ch))
      spec.warnings.push_back("media.pooling.multipliers." + ch + " is set but channel \"" + ch +
                              "\" is not pooled, so the multiplier has no effect");
}

ModelSpec parse_table(const Reader& r, const toml::table& root, const std::string& source,
                      const std::filesystem::path& base_dir, std::string default_name) {
  r.check_keys(root, "", {"name", "data", "media", "controls", "seasonality", "trend", "likelihood", "priors",
                          "lift_tests", "sampler"});
  ModelSpec spec;
  spec.source = source;
  spec.name = std::move(default_name);
  read_name(r, root, spec);
  read_data(r, root, base_dir, spec.data);
  read_media(r, root, spec.media);
  read_controls(r, root, spec);
  read_small_sections(r, root, spec);
  read_priors(r, root, spec);
  read_lift_tests(r, root, spec);
  read_sampler(r, root, spec.sampler);
  add_media_warnings(spec);
  return spec;
}

ModelSpec parse_text(std::string_view text, const std::string& source, const std::filesystem::path& base_dir,
                     std::string default_name) {
  return parse_table(Reader(source), detail::parse_toml(text, source), source, base_dir, std::move(default_name));
}

// ---------------------------------------------------------------------------------------------
// Writing

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string toml_key(std::string_view k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return bare ? std::string(k) : toml_string(k);
}

std::string toml_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_string(v[i]);
  return out + "]";
}

void write_data_media(std::ostream& o, const ModelSpec& s) {
  const DataSpec& d = s.data;
  o << "\n[data]\npath = " << toml_string(d.path) << "\ndate = " << toml_string(d.date)
    << "\noutcome = " << toml_string(d.outcome) << "\npanel = " << toml_string(d.panel)
    << "\nmedia_scale = " << toml_string(to_string(d.media_scale))
    << "\noutcome_scale = " << toml_string(to_string(d.outcome_scale))
    << "\noutcome_kind = " << toml_string(to_string(d.outcome_kind)) << "\n";
  const MediaSpec& m = s.media;
  o << "\n[media]\nchannels = " << toml_strings(m.channels) << "\nadstock = { type = "
    << toml_string(to_string(m.adstock.type)) << ", taps = " << m.adstock.taps
    << ", normalize = " << (m.adstock.normalize ? "true" : "false") << " }\nsaturation = { type = "
    << toml_string(to_string(m.saturation)) << " }\neffect_sign = " << toml_string(to_string(m.effect_sign))
    << "\npooling = { type = " << toml_string(to_string(m.pooling.type)) << ", multipliers = {";
  bool first = true;
  for (const auto& [ch, v] : m.pooling.multipliers) {
    o << (first ? " " : ", ") << toml_key(ch) << " = " << toml_double(v);
    first = false;
  }
  o << (first ? "} }\n" : " } }\n");
  // A standard table, not an inline one, so that the group order survives as line order.
  o << "\n[media.groups]\n";
  for (const auto& [g, members] : m.groups) o << toml_key(g) << " = " << toml_strings(members) << "\n";
}

void write_model_sections(std::ostream& o, const ModelSpec& s) {
  o << "\n[controls]\ncolumns = " << toml_strings(s.controls) << "\nscale = " << toml_string(to_string(s.control_scale))
    << "\n";
  o << "\n[seasonality]\nperiod = " << toml_double(s.season_period) << "\nharmonics = " << s.season_harmonics << "\n";
  o << "\n[trend]\ntype = " << toml_string(to_string(s.trend)) << "\n";
  o << "\n[likelihood]\ntype = " << toml_string(to_string(s.likelihood)) << "\n";
  o << "\n[priors]\n";
  for (const auto& f : prior_family_names()) {
    auto it = s.priors.family.find(f);
    const Distribution d =
        it != s.priors.family.end() ? it->second : default_prior(f, s.media.effect_sign, s.media.pooling.type);
    o << toml_key(f) << " = " << toml_string(to_string(d)) << "\n";
  }
  for (const auto& [k, d] : s.priors.overrides) o << toml_string(k) << " = " << toml_string(to_string(d)) << "\n";
}

void write_runs(std::ostream& o, const ModelSpec& s) {
  for (const auto& lt : s.lift_tests)
    o << "\n[[lift_tests]]\nchannel = " << toml_string(lt.channel) << "\nspend_before = " << toml_double(lt.spend_before)
      << "\nspend_after = " << toml_double(lt.spend_after) << "\nlift = " << toml_double(lt.lift)
      << "\nlift_sd = " << toml_double(lt.lift_sd) << "\n";
  const SamplerSpec& sm = s.sampler;
  // TOML integers are signed 64-bit; a larger seed cannot be written faithfully.
  if (sm.seed > static_cast<std::uint64_t>(INT64_MAX))
    throw std::out_of_range("sampler.seed " + std::to_string(sm.seed) + " does not fit a TOML integer");
  o << "\n[sampler]\nalgorithm = " << toml_string(to_string(sm.algorithm)) << "\nchains = " << sm.chains
    << "\nwarmup = " << sm.warmup << "\ndraws = " << sm.draws << "\ntarget_accept = " << toml_double(sm.target_accept)
    << "\nmax_depth = " << sm.max_depth << "\nseed = " << sm.seed << "\nmetric = " << toml_string(to_string(sm.metric)) << "\n";
}

}  // namespace

namespace detail {

std::string read_text_file(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(located(file.string(), 0, 0, std::string("cannot open ") + what));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(located(file.string(), 0, 0, std::string("cannot read ") + what));
  return text.str();
}

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, std::string_view(source));
  } catch (const toml::parse_error& e) {
    Reader(source).fail(e.source(), "TOML syntax error: " + std::string(e.description()));
  }
}

ModelSpec parse_model_table(const toml::table& root, const std::string& source, const std::filesystem::path& base_dir,
                            std::string default_name) {
  return parse_table(Reader(source), root, source, base_dir, std::move(default_name));
}

}  // namespace detail

ModelSpec parse_model_config(const std::filesystem::path& file) {
  const std::string text = detail::read_text_file(file, "model config file");
  // Absolute, so data.path stays valid wherever the spec (or its to_toml) goes next.
  const std::filesystem::path base = std::filesystem::absolute(file).parent_path();
  return parse_text(text, file.string(), base, file.stem().string());
}

ModelSpec parse_model_config_text(std::string_view toml, const std::string& source,
                                  const std::filesystem::path& base_dir) {
  return parse_text(toml, source, base_dir, "model");
}

std::string to_toml(const ModelSpec& spec) {
  std::ostringstream o;
  o << "name = " << toml_string(spec.name) << "\n";
  write_data_media(o, spec);
  write_model_sections(o, spec);
  write_runs(o, spec);
  return o.str();
}

}  // namespace herd
