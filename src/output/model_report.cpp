#include "herd/output/model_report.hpp"

#include <fmt/format.h>

#include "herd/core/text_table.hpp"

#include <algorithm>
#include <cmath>

namespace herd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::vector<ScalarDraws> posterior_scalars(const DataGroup& post, int C, int D) {
  std::vector<ScalarDraws> out;
  const auto& skip = derived_variables();
  for (const auto& v : post.vars) {
    if (std::find(skip.begin(), skip.end(), v.name) != skip.end()) continue;
    std::vector<const Coord*> axes;
    for (size_t i = 2; i < v.dims.size(); ++i) axes.push_back(post.coord(v.dims[i]));
    size_t inner = 1;
    for (const Coord* a : axes) inner *= a->size();
    for (size_t e = 0; e < inner; ++e) {
      ScalarDraws s;
      s.label = v.name;
      if (!axes.empty()) {
        std::string idx;
        size_t rest = e, stride = inner;
        for (const Coord* a : axes) {
          stride /= a->size();
          const size_t k = rest / stride;
          rest %= stride;
          idx += (idx.empty() ? "" : ",") + (a->is_text() ? a->labels[k] : std::to_string(a->ints[k]));
        }
        s.label += "[" + idx + "]";
      }
      s.draws.resize(static_cast<size_t>(C) * static_cast<size_t>(D));
      for (size_t r = 0; r < s.draws.size(); ++r) s.draws[r] = v.values[r * inner + e];
      out.push_back(std::move(s));
    }
  }
  return out;
}

namespace {

// The worst value over `rows` (NaN, undefined, is worst of all), with the row it came from.
template <class Get, class Worse>
std::pair<double, const ParamRow*> worst(const std::vector<ParamRow>& rows, Get get, Worse worse) {
  std::pair<double, const ParamRow*> w{0, nullptr};
  for (const auto& p : rows) {
    if (p.constant) continue;
    const double v = get(p);
    if (!w.second || std::isnan(v) || (!std::isnan(w.first) && worse(v, w.first))) w = {v, &p};
    if (std::isnan(v)) break;
  }
  return w;
}

// Stored as typed attributes, one per key, so a reader can select on them.
const char* const kCheckAttrs[] = {"check_max_rhat", "check_min_ess", "check_max_divergences", "check_min_ebfmi"};

bool has_checks(const ModelOutput& m) { return m.real_attrs.count(kCheckAttrs[0]) > 0; }

ConvergenceChecks stored_checks(const ModelOutput& m) {
  ConvergenceChecks c;
  auto real = [&](const char* k, double fallback) {
    const auto it = m.real_attrs.find(k);
    return it == m.real_attrs.end() ? fallback : it->second;
  };
  c.max_rhat = real(kCheckAttrs[0], c.max_rhat);
  c.min_ess = real(kCheckAttrs[1], c.min_ess);
  if (auto it = m.int_attrs.find(kCheckAttrs[2]); it != m.int_attrs.end()) c.max_divergences = static_cast<int>(it->second);
  c.min_ebfmi = real(kCheckAttrs[3], c.min_ebfmi);
  return c;
}


}  // namespace

int ModelReport::low_ebfmi() const {
  return static_cast<int>(
      std::count_if(ebfmi.begin(), ebfmi.end(), [&](double b) { return !(b > checks.min_ebfmi); }));
}

const std::vector<std::string>& derived_variables() {
  static const std::vector<std::string> v{"contribution"};
  return v;
}

ModelReport report(const ModelOutput& m) {
  ModelReport r;
  r.name = m.name;
  r.status = m.status;
  r.checks = stored_checks(m);
  if (auto it = m.real_attrs.find("wall_seconds"); it != m.real_attrs.end()) r.seconds = it->second;
  if (auto it = m.int_attrs.find("max_depth"); it != m.int_attrs.end()) r.max_depth = static_cast<int>(it->second);
  const DataGroup* post = m.group("posterior");
  const DataGroup* ss = m.group("sample_stats");
  if (m.failed() || !post || !ss) return r;
  r.chains = static_cast<int>(post->coord("chain")->size());
  r.draws = static_cast<int>(post->coord("draw")->size());
  for (const auto& s : posterior_scalars(*post, r.chains, r.draws)) {
    ParamRow row{s.label, summarize(s.draws.data(), r.chains, r.draws)};
    // A quantity that never moves (a fixed parameter) has no R-hat and needs none.
    row.constant = std::all_of(s.draws.begin(), s.draws.end(), [&](double x) { return x == s.draws.front(); });
    row.converged = row.constant || (row.s.r_hat < r.checks.max_rhat && row.s.ess_bulk > r.checks.min_ess &&
                                     row.s.ess_tail > r.checks.min_ess);
    r.params.push_back(std::move(row));
  }
  auto larger = [](double a, double b) { return a > b; };
  auto smaller = [](double a, double b) { return a < b; };
  if (auto w = worst(r.params, [](const ParamRow& p) { return p.s.r_hat; }, larger); w.second) r.max_rhat = w.first;
  if (auto w = worst(r.params, [](const ParamRow& p) { return p.s.ess_bulk; }, smaller); w.second) r.min_ess_bulk = w.first;
  if (auto w = worst(r.params, [](const ParamRow& p) { return p.s.ess_tail; }, smaller); w.second) r.min_ess_tail = w.first;
  if (const Variable* d = ss->var("diverging"))
    for (double x : d->values) r.divergences += x != 0;
  if (const Variable* t = ss->var("tree_depth"))
    for (double x : t->values) r.max_depth_hits += r.max_depth > 0 && x >= r.max_depth;
  if (const Variable* e = ss->var("energy"))
    for (int c = 0; c < r.chains; ++c) r.ebfmi.push_back(ebfmi(&e->values[static_cast<size_t>(c * r.draws)], r.draws));
  // Files from before `warn` existed hold `ok` for every fit that finished: judge those now.
  if (r.status.state == FitState::kOk && !has_checks(m)) {
    const std::string why = failed_checks(r, r.checks);
    if (!why.empty()) r.status = FitStatus::warn(why);
  }
  return r;
}

std::string failed_checks(const ModelReport& r, const ConvergenceChecks& c) {
  std::vector<std::string> out;
  auto larger = [](double a, double b) { return a > b; };
  auto smaller = [](double a, double b) { return a < b; };
  auto named = [](const ParamRow* p) { return " (" + p->parameter + ")"; };
  if (auto w = worst(r.params, [](const ParamRow& p) { return p.s.r_hat; }, larger); w.second) {
    if (std::isnan(w.first))
      out.push_back("r_hat undefined" + named(w.second) + ": too few draws");
    else if (!(w.first < c.max_rhat))
      out.push_back(fmt::format("r_hat {} {} {}{}", fmt_fixed(w.first, 3), w.first > c.max_rhat ? ">" : ">=", fmt_short(c.max_rhat),
                                named(w.second)));
  }
  for (const auto& [what, get] :
       {std::pair<const char*, double (*)(const ParamRow&)>{"bulk", [](const ParamRow& p) { return p.s.ess_bulk; }},
        std::pair<const char*, double (*)(const ParamRow&)>{"tail", [](const ParamRow& p) { return p.s.ess_tail; }}}) {
    const auto w = worst(r.params, get, smaller);
    if (!w.second) continue;
    if (std::isnan(w.first))
      out.push_back(fmt::format("{} ESS undefined{}: too few draws", what, named(w.second)));
    else if (!(w.first > c.min_ess))
      out.push_back(fmt::format("{} ESS {:.0f} {} {}{}", what, w.first, w.first < c.min_ess ? "<" : "<=", fmt_short(c.min_ess),
                                named(w.second)));
  }
  if (r.divergences > c.max_divergences)
    out.push_back(fmt::format("{} divergence{}", r.divergences, r.divergences == 1 ? "" : "s"));
  int low = 0, undefined = 0;
  double lowest = INFINITY;
  for (double b : r.ebfmi) {
    undefined += std::isnan(b);
    if (b <= c.min_ebfmi) {
      ++low;
      lowest = std::min(lowest, b);
    }
  }
  if (undefined > 0) out.push_back(fmt::format("E-BFMI undefined in {} chain{}: too few draws", undefined, undefined == 1 ? "" : "s"));
  if (low > 0)
    out.push_back(fmt::format("E-BFMI {:.2f} {} {} in {} chain{}", lowest, lowest < c.min_ebfmi ? "<" : "<=",
                              fmt_short(c.min_ebfmi), low, low == 1 ? "" : "s"));
  std::string joined;
  for (const auto& s : out) joined += (joined.empty() ? "" : "; ") + s;
  return joined;
}

void judge(ModelOutput& m, const ConvergenceChecks& c) {
  m.real_attrs[kCheckAttrs[0]] = c.max_rhat;
  m.real_attrs[kCheckAttrs[1]] = c.min_ess;
  m.int_attrs[kCheckAttrs[2]] = c.max_divergences;
  m.real_attrs[kCheckAttrs[3]] = c.min_ebfmi;
  if (m.failed()) return;
  const std::string why = failed_checks(report(m), c);
  m.status = why.empty() ? FitStatus{} : FitStatus::warn(why);
}

}  // namespace herd
