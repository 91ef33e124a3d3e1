#include "herd/config/run_config.hpp"
#include "herd/config/limits.hpp"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "model_config_detail.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

using detail::Reader;

fs::path resolve(const fs::path& base, const std::string& p) {
  const fs::path q(p);
  return (q.is_absolute() ? q : base / q).lexically_normal();
}

void read_run_table(const Reader& w, const toml::table& root, const fs::path& base, RunSettings& run) {
  const toml::node* n = root.get("run");
  if (!n) return;
  if (!n->is_table()) w.fail(*n, "`run`: expected a table");
  const toml::table& t = *n->as_table();
  w.check_keys(t, "run",
               {"output", "device", "threads", "precision", "max_rhat", "min_ess", "max_divergences", "min_ebfmi"});
  if (const toml::node* o = t.get("output")) run.output = resolve(base, w.nonempty_string(*o, "run.output")).string();
  if (const toml::node* d = t.get("device")) {
    const std::string s = w.nonempty_string(*d, "run.device");
    const auto v = parse_choice(s, Device::kCpu, Device::kCuda);
    if (!v) w.fail(*d, "`run.device`: expected \"cpu\" or \"cuda\", found \"" + s + "\"");
    run.device = *v;
  }
  if (const toml::node* th = t.get("threads")) run.threads = w.small_int(*th, "run.threads", 0, 4096);
  if (const toml::node* p = t.get("precision")) {
    const std::string s = w.nonempty_string(*p, "run.precision");
    const auto v = parse_choice(s, Precision::kFloat64, Precision::kFloat32);
    if (!v) w.fail(*p, "`run.precision`: expected \"float64\" or \"float32\", found \"" + s + "\"");
    run.precision = *v;
  }
  ConvergenceChecks& c = run.checks;
  if (const toml::node* x = t.get("max_rhat"))
    c.max_rhat = w.number(*x, "run.max_rhat", [](double v) { return v > 1 && v <= 1000; }, "a number in (1, 1000]");
  if (const toml::node* x = t.get("min_ess"))
    c.min_ess = w.number(*x, "run.min_ess", [](double v) { return v >= 0 && v < 1e9; }, "a number >= 0");
  if (const toml::node* x = t.get("max_divergences"))
    c.max_divergences = w.small_int(*x, "run.max_divergences", 0, 1 << 30);
  if (const toml::node* x = t.get("min_ebfmi"))
    c.min_ebfmi = w.number(*x, "run.min_ebfmi", [](double v) { return v >= 0 && v < 10; }, "a number in [0, 10)");
}

// The array of tables under `key` ([[models]], [[sweeps]]).
std::vector<const toml::table*> tables_of(const Reader& w, const toml::table& root, const char* key) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) w.fail(*n, std::string("`") + key + "`: expected an array of tables ([[" + key + "]])");
  for (const auto& e : *a) {
    if (!e.is_table()) w.fail(e, std::string("`") + key + "`: expected an array of tables ([[" + key + "]])");
    out.push_back(e.as_table());
  }
  return out;
}

fs::path existing_file(const Reader& w, const toml::node& n, const fs::path& base, const std::string& path) {
  const fs::path p = resolve(base, w.nonempty_string(n, path));
  if (!fs::is_regular_file(p)) w.fail(n, "`" + path + "`: no such file " + p.string());
  return p;
}

toml::table read_table(const fs::path& file) {
  return detail::parse_toml(detail::read_text_file(file, "model config file"), file.string());
}

void read_model_entry(const Reader& w, const toml::table* m, const std::string& at, const fs::path& base, RunSpec& run) {
  {
    w.check_keys(*m, at, {"config", "template", "data", "name"});
    const toml::node* config = m->get("config");
    const toml::node* tmpl = m->get("template");
    const toml::node* data = m->get("data");
    const toml::node* name = m->get("name");
    if ((config != nullptr) == (tmpl != nullptr))
      w.fail(*m, "`" + at + "`: give either `config` (one model) or `template` with `data` (one model per data file)");
    if (config) {
      if (data) w.fail(*data, "`" + at + ".data`: goes with `template`, not with `config`");
      const fs::path file = existing_file(w, *config, base, at + ".config");
      ModelSpec spec = parse_model_config(file);
      if (name) {
        spec.name = w.nonempty_string(*name, at + ".name");
        const std::string problem = model_name_problem(spec.name);
        if (!problem.empty()) w.fail(*name, "`" + at + ".name`: " + problem);
      }
      run.models.push_back({std::move(spec), "", {}});
      return;
    }
    if (!data) w.fail(*m, "`" + at + "`: a `template` needs `data`, a glob of data files (e.g. \"brands/*.csv\")");
    if (name) w.fail(*name, "`" + at + ".name`: template models are named after their data files");
    const fs::path tfile = existing_file(w, *tmpl, base, at + ".template");
    const std::string pattern = resolve(base, w.nonempty_string(*data, at + ".data")).string();
    glob_t g{};
    const int rc = glob(pattern.c_str(), 0, nullptr, &g);
    std::vector<std::string> files;
    for (size_t k = 0; rc == 0 && k < g.gl_pathc; ++k) files.emplace_back(g.gl_pathv[k]);
    globfree(&g);
    if (files.empty()) w.fail(*data, "`" + at + ".data`: the pattern " + pattern + " matches no file");
    std::sort(files.begin(), files.end());
    const toml::table proto = read_table(tfile);
    for (const auto& f : files) {
      toml::table t = proto;
      t.insert_or_assign("name", fs::path(f).stem().string());
      toml::node* d = t.get("data");
      if (!d) d = &t.insert_or_assign("data", toml::table{}).first->second;
      if (!d->is_table()) Reader(tfile.string()).fail(*proto.get("data"), "`data`: expected a table");
      d->as_table()->insert_or_assign("path", f);
      run.models.push_back({detail::parse_model_table(t, tfile.string(), tfile.parent_path(), ""), "", {}});
    }
  }
}

std::string value_text(const toml::node& v) {
  if (const auto* s = v.as_string()) return s->get();
  if (const auto* f = v.as_floating_point()) {
    // Shortest text that reads back to the same double (0.05, not 0.050000000000000003).
    std::string t = fmt::format("{}", f->get());
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  }
  std::ostringstream o;
  v.visit([&](const auto& x) { o << x; });
  return o.str();
}

std::string toml_value(const toml::node& v) {
  if (!v.is_string()) return value_text(v);
  std::string out = "\"";
  for (char c : v.as_string()->get()) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Safe in group names, file names and shells.
std::string name_part(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (ok)
      out += c;
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

void read_sweep_entry(const Reader& w, const toml::table* sw, const std::string& at, const fs::path& base, RunSpec& run) {
  {
    const toml::node* config = sw->get("config");
    if (!config) w.fail(*sw, "`" + at + "`: missing `config`, the model config the sweep varies");
    const fs::path file = existing_file(w, *config, base, at + ".config");
    const toml::table proto = read_table(file);
    const std::string base_name = detail::parse_model_table(proto, file.string(), file.parent_path(), file.stem().string()).name;
    struct Axis {
      const toml::key* key;
      const toml::array* values;
      std::string label;
    };
    std::vector<Axis> axes;
    for (const auto& [k, v] : Reader::in_file_order(*sw)) {
      if (k->str() == "config") continue;
      const std::string key(k->str());
      const toml::array* a = v->as_array();
      if (!a || a->empty()) w.fail(*v, "sweep key `" + key + "`: expected a non-empty array of values");
      axes.push_back({k, a, detail::key_segments(key, w, *k).back()});
    }
    if (axes.empty()) w.fail(*sw, "`" + at + "`: no keys to sweep over (e.g. \"priors.beta_sigma\" = [...])");
    // The last segment names a key in model names, unless two keys share it.
    std::vector<std::string> full;
    for (const auto& x : axes) full.push_back(name_part(std::string(x.key->str())));
    std::vector<std::string> last;
    for (const auto& x : axes) last.push_back(x.label);
    for (size_t x = 0; x < axes.size(); ++x)
      for (size_t y = 0; y < axes.size(); ++y)
        if (x != y && last[x] == last[y]) axes[x].label = full[x];
    // Counted against the cap as it grows: a product of many axes must not wrap around.
    size_t points = 1;
    for (const auto& x : axes) {
      if (x.values->size() > (kMaxModels - run.models.size()) / points)
        w.fail(*sw, "`" + at + "`: the sweep has more points than the " + std::to_string(kMaxModels) +
                        " models a run may hold (with the " + std::to_string(run.models.size()) +
                        " before it); split it over several run files");
      points *= x.values->size();
    }
    std::vector<size_t> idx(axes.size(), 0);
    for (size_t p = 0; p < points; ++p) {
      // The last key varies fastest, as in nested loops written in file order.
      for (size_t a = axes.size(), r = p; a-- > 0;) {
        idx[a] = r % axes[a].values->size();
        r /= axes[a].values->size();
      }
      toml::table t = proto;
      std::string name = base_name, point = "{ ";
      std::vector<SweepValue> typed;
      for (size_t a = 0; a < axes.size(); ++a) {
        const toml::node& v = *axes[a].values->get(idx[a]);
        detail::set_dotted(t, std::string(axes[a].key->str()), v, w, *axes[a].key);
        name += "__" + axes[a].label + "=" + name_part(value_text(v));
        point += (a ? ", \"" : "\"") + std::string(axes[a].key->str()) + "\" = " + toml_value(v);
        SweepValue sv;
        sv.key = std::string(axes[a].key->str());
        if (const auto* i = v.as_integer()) {
          sv.kind = SweepValue::Kind::kInt;
          sv.integer = i->get();
        } else if (const auto* f = v.as_floating_point()) {
          sv.kind = SweepValue::Kind::kReal;
          sv.real = f->get();
        } else {
          sv.text = v.is_string() ? v.as_string()->get() : value_text(v);
        }
        typed.push_back(std::move(sv));
      }
      point += " }";
      t.insert_or_assign("name", name);
      try {
        run.models.push_back({detail::parse_model_table(t, file.string(), file.parent_path(), ""), point, typed});
      } catch (const InputError& e) {
        // Point at the key the message names, else at the first key of the sweep.
        const toml::key* culprit = axes.front().key;
        for (const auto& x : axes)
          if (std::string(e.what()).find("`" + std::string(x.key->str())) != std::string::npos) culprit = x.key;
        w.fail(culprit->source(), "sweep point " + point + " of " + file.string() + ": " + e.what());
      }
    }
  }
}

}  // namespace

namespace detail {

// A dotted sweep key's segments. As in TOML itself, a segment in double quotes may hold dots
// (`media.pooling.multipliers."a.b"` addresses channel a.b).
std::vector<std::string> key_segments(const std::string& key, const Reader& w, const toml::key& at) {
  std::vector<std::string> segs(1);
  std::vector<bool> quoted(1, false);
  bool in_quotes = false;
  for (char c : key) {
    if (c == '"') {
      in_quotes = !in_quotes;
      quoted.back() = true;
    } else if (c == '.' && !in_quotes) {
      segs.emplace_back();
      quoted.push_back(false);
    } else {
      segs.back() += c;
    }
  }
  if (in_quotes) w.fail(at.source(), "sweep key `" + key + "`: a quote opened in the key is not closed");
  for (size_t i = 0; i < segs.size(); ++i)
    if (segs[i].empty() && !quoted[i]) w.fail(at.source(), "sweep key `" + key + "`: empty segment in the dotted key");
  return segs;
}

// Puts `value` at the dotted `key` of a config table, creating tables on the way; an
// integer segment indexes an array of tables (lift_tests.0.lift).
void set_dotted(toml::table& root, const std::string& key, const toml::node& value, const Reader& w,
                const toml::key& at) {
  const std::vector<std::string> segs = key_segments(key, w, at);
  toml::node* cur = &root;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    const std::string& s = segs[i];
    if (toml::array* a = cur->as_array()) {
      const bool digits = std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (!digits || std::stoul(s) >= a->size())
        w.fail(at.source(), "sweep key `" + key + "`: `" + s + "` is not an index of the " + std::to_string(a->size()) +
                                "-element array before it");
      cur = a->get(std::stoul(s));
      continue;
    }
    toml::table* t = cur->as_table();
    if (!t) w.fail(at.source(), "sweep key `" + key + "`: `" + segs[i - 1] + "` is not a table in the config");
    toml::node* next = t->get(s);
    if (!next) next = &t->insert_or_assign(s, toml::table{}).first->second;
    cur = next;
  }
  toml::table* t = cur->as_table();
  if (!t) w.fail(at.source(), "sweep key `" + key + "`: its parent is not a table in the config");
  t->insert_or_assign(segs.back(), value);
}

}  // namespace detail

RunSpec parse_run(const fs::path& file) {
  const std::string text = detail::read_text_file(file, "config file");
  const toml::table root = detail::parse_toml(text, file.string());
  RunSpec run;
  run.source = file.string();
  run.is_run_file = root.contains("run") || root.contains("models") || root.contains("sweeps");
  if (!run.is_run_file) {
    run.models.push_back({parse_model_config(file), "", {}});
    return run;
  }
  const Reader w(file.string());
  w.check_keys(root, "", {"run", "models", "sweeps"});
  const fs::path base = fs::absolute(file).parent_path();
  read_run_table(w, root, base, run.run);
  // [[models]] and [[sweeps]] entries in the order they appear in the file.
  struct Entry {
    const toml::table* t;
    bool sweep;
    std::string at;
  };
  std::vector<Entry> entries;
  int k = 0;
  for (const toml::table* t : tables_of(w, root, "models")) entries.push_back({t, false, "models[" + std::to_string(k++) + "]"});
  k = 0;
  for (const toml::table* t : tables_of(w, root, "sweeps")) entries.push_back({t, true, "sweeps[" + std::to_string(k++) + "]"});
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
    return x.t->source().begin.line < y.t->source().begin.line;
  });
  for (const auto& e : entries)
    (e.sweep ? read_sweep_entry : read_model_entry)(w, e.t, e.at, base, run);
  if (run.models.empty()) w.fail("the run file lists no models ([[models]] or [[sweeps]])");
  std::map<std::string, std::string> seen;
  for (const auto& m : run.models) {
    auto [it, fresh] = seen.emplace(m.spec.name, m.spec.source);
    if (!fresh)
      w.fail("two models are named \"" + m.spec.name + "\" (from " + it->second + " and " + m.spec.source +
             "); model names must be unique in a run (set `name` in [[models]])");
  }
  return run;
}

}  // namespace herd
