// A fitted model rebuilt from its output alone: the config attribute, observed_data and
// constant_data give the model, the posterior (read by label) its unconstrained draws.
#include "herd/analysis/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

namespace {

const DataGroup& need_group(const ModelOutput& out, const std::string& name, const std::string& file) {
  const DataGroup* g = out.group(name);
  if (!g) throw std::runtime_error(file + ": model " + out.name + " has no " + name + " group");
  return *g;
}

const Variable& need_var(const DataGroup& g, const std::string& name, const std::string& file, const std::string& model) {
  const Variable* v = g.var(name);
  if (!v) throw std::runtime_error(file + ": " + model + "/" + g.name + " has no variable " + name);
  return *v;
}

// [g][t][j] (netCDF order) -> [(g * n + j) * T + t] (the Dataset's order).
std::vector<double> to_series(const std::vector<double>& v, size_t G, size_t T, size_t n) {
  std::vector<double> out(G * T * n);
  for (size_t g = 0; g < G; ++g)
    for (size_t t = 0; t < T; ++t)
      for (size_t j = 0; j < n; ++j) out[(g * n + j) * T + t] = v[(g * T + t) * n + j];
  return out;
}

std::string week_label(const Coord& week, size_t t) {
  return week.units.empty() ? std::to_string(week.ints[t]) : iso_date(week.ints[t]);
}

}  // namespace

std::unique_ptr<Model> restore_model_only(const ModelOutput& out, const std::string& file) {
  if (out.failed())
    throw std::runtime_error(file + ": model " + out.name + " has status \"" + out.status.text() + "\"");
  const auto cfg = out.text_attrs.find("config");
  if (cfg == out.text_attrs.end()) throw std::runtime_error(file + ": model " + out.name + " has no config attribute");
  ModelSpec spec = parse_model_config_text(cfg->second, file + ":/" + out.name + "@config", ".");
  const DataGroup& obs = need_group(out, "observed_data", file);
  const DataGroup& cd = need_group(out, "constant_data", file);
  Dataset d;
  const auto src = out.text_attrs.find("data_source");
  d.source = src != out.text_attrs.end() ? src->second : file;
  const Coord* week = obs.coord("week");
  if (!week) throw std::runtime_error(file + ": " + out.name + "/observed_data has no week coordinate");
  d.T = static_cast<int>(week->size());
  for (size_t t = 0; t < week->size(); ++t) d.dates.push_back(week_label(*week, t));
  const Coord* geo = obs.coord("geo");
  d.geos = geo ? geo->labels : std::vector<std::string>{""};
  d.G = static_cast<int>(d.geos.size());
  const Coord* ch = cd.coord("channel");
  d.channels = ch ? ch->labels : std::vector<std::string>{};
  d.C = static_cast<int>(d.channels.size());
  const Coord* ctl = cd.coord("control");
  d.controls = ctl ? ctl->labels : std::vector<std::string>{};
  d.K = static_cast<int>(d.controls.size());
  const auto G = static_cast<size_t>(d.G), T = static_cast<size_t>(d.T);
  d.outcome = need_var(obs, "y", file, out.name).values;
  d.media = to_series(need_var(cd, "spend", file, out.name).values, G, T, static_cast<size_t>(d.C));
  if (d.K > 0) d.control = to_series(need_var(cd, "control_value", file, out.name).values, G, T, static_cast<size_t>(d.K));
  d.media_scale = need_var(cd, "media_scale", file, out.name).values;
  // Files written before [controls] scale existed have neither: the Model then makes them
  // from the config, whose controls enter as given.
  if (const Variable* cc = cd.var("control_center")) d.control_center = cc->values;
  if (const Variable* cs = cd.var("control_scale")) d.control_scale = cs->values;
  const auto os = out.real_attrs.find("outcome_scale");
  d.outcome_scale = os != out.real_attrs.end() ? os->second : 1.0;
  d.line.assign(G * T, 0);
  d.media_column.assign(static_cast<size_t>(d.C), 0);
  return std::make_unique<Model>(std::move(spec), std::move(d));
}

FittedModel restore_model(const ModelOutput& out, const std::string& file) {
  FittedModel f;
  f.model = restore_model_only(out, file);
  const Model& m = *f.model;
  const DataGroup& post = need_group(out, "posterior", file);
  f.chains = static_cast<int>(post.coord("chain")->size());
  f.draws = static_cast<int>(post.coord("draw")->size());
  const auto n = static_cast<size_t>(f.n()), dim = static_cast<size_t>(m.dim());
  // Where each coordinate's constrained value sits in its posterior variable.
  struct Source {
    const Variable* var;
    size_t inner, pos;
  };
  std::vector<Source> src;
  for (const auto& p : m.params()) {
    const std::string& stem = p.stem;
    const Variable& v = need_var(post, stem, file, out.name);
    const std::vector<std::string>& parts = p.parts;
    if (parts.size() + 2 != v.dims.size())
      throw std::runtime_error(file + ": " + out.name + "/posterior/" + stem + " does not match " + p.name);
    size_t inner = 1, pos = 0;
    for (size_t j = 0; j < parts.size(); ++j) {
      const Coord* c = post.coord(v.dims[j + 2]);
      const auto it = std::find(c->labels.begin(), c->labels.end(), parts[j]);
      if (it == c->labels.end())
        throw std::runtime_error(file + ": " + out.name + "/posterior/" + stem + " has no " + parts[j]);
      pos = pos * c->size() + static_cast<size_t>(it - c->labels.begin());
      inner *= c->size();
    }
    src.push_back({&v, inner, pos});
  }
  f.theta.resize(n * dim);
  std::vector<double> values(dim);
  for (size_t r = 0; r < n; ++r) {
    for (size_t i = 0; i < dim; ++i) values[i] = src[i].var->values[r * src[i].inner + src[i].pos];
    const std::vector<double> u = m.unconstrain(values);
    std::copy(u.begin(), u.end(), f.theta.begin() + static_cast<std::ptrdiff_t>(r * dim));
  }
  return f;
}

}  // namespace herd
