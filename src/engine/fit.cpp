#include "herd/engine/fit.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "herd/core/error.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/chees.hpp"

namespace herd {

SamplerOptions options_from(const ModelSpec& spec) {
  SamplerOptions o;
  o.algorithm = spec.sampler.algorithm;
  o.chains = spec.sampler.chains;
  o.warmup = spec.sampler.warmup;
  o.draws = spec.sampler.draws;
  o.target_accept = spec.sampler.target_accept;
  o.max_depth = spec.sampler.max_depth;
  o.seed = spec.sampler.seed;
  o.pooled_metric = spec.sampler.metric == "pooled";
  return o;
}

FitResult fit_model(const Model& model, const SamplerOptions& options) {
  const ModelTarget<double> target{model.view<double>()};
  const std::uint64_t id = model_id(model.spec().name);
  if (options.algorithm == "chees") return run_chees(target, model.dim(), model.scratch_size(), options, id);
  if (options.algorithm != "nuts") throw std::invalid_argument("unknown algorithm " + options.algorithm);
  return run_nuts(target, model.dim(), model.scratch_size(), options, id);
}

namespace {

// Channels whose effect is not itself a coordinate (pooled: beta_z or log_beta).
std::vector<int> derived_beta_channels(const Model& model) {
  std::vector<int> out;
  const auto& ch = model.dataset().channels;
  for (int c = 0; c < static_cast<int>(ch.size()); ++c) {
    bool direct = false;
    for (const auto& p : model.params()) direct = direct || p.name == "beta[" + ch[static_cast<size_t>(c)] + "]";
    if (!direct) out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::string> output_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& p : model.params()) names.push_back(p.name);
  for (int c : derived_beta_channels(model)) names.push_back("beta[" + model.dataset().channels[static_cast<size_t>(c)] + "]");
  return names;
}

void outputs(const Model& model, const double* theta, double* out) {
  const std::vector<double> v = model.constrain(theta);
  std::copy(v.begin(), v.end(), out);
  const auto derived = derived_beta_channels(model);
  if (derived.empty()) return;
  // beta of a pooled channel = its base effect (exp of it for positive effects).
  const ModelView<double> m = model.view<double>();
  std::vector<double> scratch(static_cast<size_t>(model.scratch_size()));
  const detail::Workspace<double> ws = detail::carve(m, scratch.data());
  detail::transform_and_priors(m, theta, ws);
  detail::effects_forward(m, ws);
  size_t k = v.size();
  for (int c : derived) out[k++] = m.positive ? std::exp(ws.lb[c]) : ws.lb[c];
}

SamplerHealth health(const FitResult& fit, int max_depth) {
  SamplerHealth h;
  for (const auto& c : fit.chains) {
    for (auto d : c.diverging) h.divergences += d;
    for (int t : c.tree_depth) h.max_depth_hits += t >= max_depth;
    h.ebfmi.push_back(ebfmi(c.energy.data(), static_cast<int>(c.energy.size())));
  }
  return h;
}

void print_summary(std::ostream& os, const Model& model, const FitResult& fit, int max_depth) {
  const auto names = output_names(model);
  const int C = static_cast<int>(fit.chains.size()), D = fit.draws, K = static_cast<int>(names.size());
  std::vector<double> row(static_cast<size_t>(K));
  std::vector<std::vector<double>> cols(static_cast<size_t>(K), std::vector<double>(static_cast<size_t>(C * D)));
  for (int c = 0; c < C; ++c)
    for (int d = 0; d < D; ++d) {
      outputs(model, &fit.chains[static_cast<size_t>(c)].theta[static_cast<size_t>(d * fit.dim)], row.data());
      for (int k = 0; k < K; ++k) cols[static_cast<size_t>(k)][static_cast<size_t>(c * D + d)] = row[static_cast<size_t>(k)];
    }
  size_t w = 9;
  for (const auto& n : names) w = std::max(w, n.size());
  fmt::print(os, "{:<{}} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}\n", "parameter", w, "mean", "sd",
             "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat");
  double worst_rhat = 0, min_ess = INFINITY;
  for (int k = 0; k < K; ++k) {
    const Summary s = summarize(cols[static_cast<size_t>(k)].data(), C, D);
    worst_rhat = std::max(worst_rhat, s.r_hat);
    min_ess = std::min(min_ess, s.ess_bulk);
    fmt::print(os, "{:<{}} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.2g} {:>9.2g} {:>9.0f} {:>9.0f} {:>7.3f}\n",
               names[static_cast<size_t>(k)], w, s.mean, s.sd, s.hdi_low, s.hdi_high, s.mcse_mean, s.mcse_sd,
               s.ess_bulk, s.ess_tail, s.r_hat);
  }
  const SamplerHealth h = health(fit, max_depth);
  std::string bfmi;
  for (double b : h.ebfmi) bfmi += fmt::format("{}{:.2f}{}", bfmi.empty() ? "" : " ", b, b < 0.3 ? " (low)" : "");
  fmt::print(os, "\n{}: {} chains x {} draws, {:.1f} s, {} gradient evaluations\n", model.spec().name, C, D,
             fit.seconds, fit.gradient_evals());
  fmt::print(os, "divergences: {}   max tree depth hits: {}   E-BFMI per chain: {}\n", h.divergences,
             h.max_depth_hits, bfmi);
  fmt::print(os, "max r_hat {:.3f}, min ess_bulk {:.0f}{}\n", worst_rhat, min_ess,
             worst_rhat < 1.01 && min_ess > 400 && h.divergences == 0 ? "" : "  <- check convergence");
}

void write_draws_csv(const std::string& path, const Model& model, const FitResult& fit) {
  const auto names = output_names(model);
  // Write next to the target and rename at the end: a failed run leaves no half-written file.
  const std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp);
    if (!f) throw InputError(located(path, 0, 0, "cannot write the draws file (missing folder or no permission?)"));
    f << "chain,draw,lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__";
    for (const auto& n : names) f << ",\"" << n << "\"";
    f << "\n";
    std::vector<double> row(names.size());
    for (size_t c = 0; c < fit.chains.size(); ++c) {
      const ChainDraws& d = fit.chains[c];
      for (int i = 0; i < fit.draws; ++i) {
        const size_t s = static_cast<size_t>(i);
        outputs(model, &d.theta[s * static_cast<size_t>(fit.dim)], row.data());
        f << c << "," << i << "," << fmt::format("{},{},{},{},{},{},{}", d.lp[s], d.accept_prob[s], d.step_size[s],
                                                 d.tree_depth[s], d.n_leapfrog[s], int(d.diverging[s]), d.energy[s]);
        for (double v : row) f << "," << fmt::format("{}", v);
        f << "\n";
      }
    }
    if (!f) throw InputError(located(path, 0, 0, "write failed"));
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace herd
