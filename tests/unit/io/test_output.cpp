// The batch executor, the ModelOutput layout and the HDF5 files: outputs laid out as the
// model defines them, exact round trips through HDF5, the kill-safe store (parts + index),
// determinism across thread counts and batch membership, failure isolation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/cluster.hpp"
#include "herd/engine/fit.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/output_store.hpp"
#include "herd/io/summary.hpp"
#include "herd/model/log_density.hpp"
#include "herd/output/model_output.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

std::unique_ptr<Model> example(const std::string& name, const std::string& rename = "") {
  ModelSpec spec = parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + name + ".toml");
  if (!rename.empty()) spec.name = rename;
  Dataset d = read_dataset(spec);
  return std::make_unique<Model>(std::move(spec), std::move(d));
}

SamplerOptions quick(const Model& m, int chains = 2, int warmup = 60, int draws = 40) {
  SamplerOptions o = options_from(m.spec());
  o.chains = chains;
  o.warmup = warmup;
  o.draws = draws;
  o.threads = 1;
  return o;
}

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() /
                     ("herd_io_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void expect_same_values(const ModelOutput& a, const ModelOutput& b) {
  ASSERT_EQ(a.name, b.name);
  ASSERT_EQ(a.status.text(), b.status.text());
  ASSERT_EQ(a.groups.size(), b.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    const DataGroup &x = a.groups[g], &y = b.groups[g];
    ASSERT_EQ(x.name, y.name);
    ASSERT_EQ(x.coords.size(), y.coords.size()) << x.name;
    for (size_t c = 0; c < x.coords.size(); ++c) {
      EXPECT_EQ(x.coords[c].name, y.coords[c].name);
      EXPECT_EQ(x.coords[c].ints, y.coords[c].ints);
      EXPECT_EQ(x.coords[c].labels, y.coords[c].labels);
      EXPECT_EQ(x.coords[c].units, y.coords[c].units);
    }
    ASSERT_EQ(x.vars.size(), y.vars.size()) << x.name;
    for (size_t v = 0; v < x.vars.size(); ++v) {
      EXPECT_EQ(x.vars[v].name, y.vars[v].name);
      EXPECT_EQ(x.vars[v].dims, y.vars[v].dims) << x.vars[v].name;
      EXPECT_TRUE(x.vars[v].type == y.vars[v].type) << x.vars[v].name;
      EXPECT_TRUE(x.vars[v].values == y.vars[v].values) << x.name << "/" << x.vars[v].name;  // bitwise
    }
  }
}

TEST(Output, IsoDays) {
  long long d = -1;
  ASSERT_TRUE(iso_days("1970-01-01", d));
  EXPECT_EQ(d, 0);
  ASSERT_TRUE(iso_days("2000-03-01", d));
  EXPECT_EQ(d, 11017);
  ASSERT_TRUE(iso_days("2022-01-03", d));
  EXPECT_EQ(d, 18995);
  ASSERT_TRUE(iso_days("1969-12-31", d));
  EXPECT_EQ(d, -1);
  EXPECT_FALSE(iso_days("2022-1-03", d));
  EXPECT_FALSE(iso_days("17", d));
}

TEST(Output, LayoutFollowsTheModel) {
  const auto model = example("national_media");
  const SamplerOptions opt = quick(*model);
  const FitResult fit = fit_model(*model, opt);
  const ModelOutput out = build_output(*model, fit, opt);
  ASSERT_TRUE(out.ok());
  const DataGroup* post = out.group("posterior");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->coord("channel")->labels, model->dataset().channels);
  EXPECT_EQ(post->coord("chain")->size(), 2u);
  EXPECT_EQ(post->coord("draw")->size(), 40u);
  // Every named output of a draw sits where its label says.
  const auto names = output_names(*model);
  std::vector<double> row(names.size());
  const int chain = 1, draw = 17;
  outputs(*model, &fit.chains[chain].theta[static_cast<size_t>(draw * fit.dim)], row.data());
  for (size_t i = 0; i < names.size(); ++i) {
    const auto open = names[i].find('[');
    const std::string stem = names[i].substr(0, open);
    const Variable* v = post->var(stem);
    ASSERT_NE(v, nullptr) << stem;
    size_t inner = post->extent(std::vector<std::string>(v->dims.begin() + 2, v->dims.end()));
    size_t pos = 0;
    if (open != std::string::npos) {
      const std::string label = names[i].substr(open + 1, names[i].size() - open - 2);
      const auto& labels = post->coord(v->dims[2])->labels;
      pos = static_cast<size_t>(std::find(labels.begin(), labels.end(), label) - labels.begin());
      ASSERT_LT(pos, labels.size()) << names[i];
    }
    EXPECT_EQ(v->values[(chain * 40 + draw) * inner + pos], row[i]) << names[i];
  }
  // Contributions (week, channel) and the pointwise log likelihood in the user's units.
  const auto contrib = model->contributions(&fit.chains[chain].theta[static_cast<size_t>(draw * fit.dim)]);
  const Variable* cv = post->var("contribution");
  ASSERT_NE(cv, nullptr);
  const size_t T = static_cast<size_t>(model->dataset().T), C = static_cast<size_t>(model->dataset().C);
  ASSERT_EQ(cv->dims, (std::vector<std::string>{"chain", "draw", "week", "channel"}));
  for (size_t t = 0; t < T; t += 13)
    for (size_t c = 0; c < C; ++c)
      EXPECT_EQ(cv->values[((chain * 40 + draw) * T + t) * C + c], contrib[c * T + t]);
  std::vector<double> ll(T), scratch(static_cast<size_t>(model->scratch_size()));
  log_likelihood_pointwise(model->view<double>(), &fit.chains[chain].theta[static_cast<size_t>(draw * fit.dim)],
                           ll.data(), scratch.data());
  const Variable* lv = out.group("log_likelihood")->var("y");
  for (size_t t = 0; t < T; ++t)
    EXPECT_DOUBLE_EQ(lv->values[(chain * 40 + draw) * T + t], ll[t] - std::log(model->dataset().outcome_scale));
  EXPECT_EQ(out.group("observed_data")->var("y")->values, model->dataset().outcome);
  EXPECT_EQ(out.group("observed_data")->coord("week")->units, "days since 1970-01-01");
  // sample_stats carry the chains' statistics in chain-major order.
  EXPECT_EQ(out.group("sample_stats")->var("lp")->values[40 + 3], fit.chains[1].lp[3]);
  EXPECT_EQ(out.int_attrs.at("seed"), static_cast<long long>(opt.seed));
  EXPECT_EQ(out.text_attrs.at("config"), to_toml(model->spec()));
}

TEST(Output, PanelAndSubsetDimensions) {
  const auto model = example("geo_panel");
  const SamplerOptions opt = quick(*model, 1, 20, 10);
  const ModelOutput out = build_output(*model, fit_model(*model, opt), opt);
  const DataGroup* post = out.group("posterior");
  EXPECT_EQ(post->var("intercept")->dims, (std::vector<std::string>{"chain", "draw", "geo"}));
  EXPECT_EQ(post->var("beta_geo_z")->dims, (std::vector<std::string>{"chain", "draw", "geo", "channel"}));
  EXPECT_EQ(post->var("contribution")->dims, (std::vector<std::string>{"chain", "draw", "geo", "week", "channel"}));
  EXPECT_EQ(post->coord("geo")->labels, model->dataset().geos);
  EXPECT_EQ(out.group("observed_data")->var("y")->dims, (std::vector<std::string>{"geo", "week"}));
}

// A value that is not finite in what a user reads (the posterior, the pointwise log
// likelihood) makes the model fail; an infinite energy error at a divergence does not.
TEST(Output, NonfiniteValuesAreFound) {
  const auto model = example("national_media");
  const SamplerOptions opt = quick(*model, 1, 20, 10);
  const ModelOutput clean = build_output(*model, fit_model(*model, opt), opt);
  EXPECT_EQ(nonfinite_variable(clean), "");
  auto with = [&](const char* group, const char* var, double v) {
    ModelOutput out = clean;
    for (auto& g : out.groups)
      if (g.name == group)
        for (auto& x : g.vars)
          if (x.name == var) x.values.at(x.values.size() / 2) = v;
    return nonfinite_variable(out);
  };
  EXPECT_EQ(with("posterior", "contribution", std::numeric_limits<double>::infinity()), "posterior/contribution");
  EXPECT_EQ(with("posterior", "sigma", std::nan("")), "posterior/sigma");
  EXPECT_EQ(with("log_likelihood", "y", -std::numeric_limits<double>::infinity()), "log_likelihood/y");
  EXPECT_EQ(with("sample_stats", "energy", std::numeric_limits<double>::infinity()), "");
}

TEST(Output, Hdf5RoundTripIsExact) {
  const fs::path dir = temp_dir();
  const auto model = example("geo_panel");
  const SamplerOptions opt = quick(*model, 2, 20, 10);
  const ModelOutput out = build_output(*model, fit_model(*model, opt), opt);
  const std::string file = (dir / "one.h5").string();
  {
    ModelFileWriter w(file);
    w.add(out);
    w.commit();
  }
  EXPECT_EQ(list_models(file), std::vector<std::string>{"geo_panel"});
  EXPECT_FALSE(is_index_file(file));
  const ModelOutput back = read_model(file, "geo_panel");
  expect_same_values(out, back);
  EXPECT_EQ(back.text_attrs.at("config"), out.text_attrs.at("config"));
  EXPECT_EQ(back.int_attrs.at("seed"), out.int_attrs.at("seed"));
  EXPECT_EQ(back.real_attrs.at("wall_seconds"), out.real_attrs.at("wall_seconds"));
  EXPECT_TRUE(back.group("sample_stats")->var("diverging")->type == VarType::kBool);
  ReadOptions skip;
  skip.skip = {"contribution"};
  EXPECT_EQ(read_model(file, "geo_panel", skip).group("posterior")->var("contribution"), nullptr);
  // A writer dropped without commit leaves nothing behind.
  { ModelFileWriter w((dir / "never.h5").string()); }
  EXPECT_FALSE(fs::exists(dir / "never.h5"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

TEST(Output, StoreKeepsAnIndexThenOneFile) {
  const fs::path dir = temp_dir();
  const std::string file = (dir / "run.h5").string();
  const auto a = example("dtc_paid_social_tuned", "a");
  const auto b = example("dtc_paid_social_unpooled", "b");
  const ModelOutput oa = build_output(*a, fit_model(*a, quick(*a)), quick(*a));
  const ModelOutput ob = failed_output(*b, quick(*b), "on purpose", 0.5);
  {
    OutputStore store(file);
    store.begin(false);
    EXPECT_TRUE(list_models(file).empty());
    store.write(oa);
    store.write(ob);
    // Mid-run: an index of external links into the parts; reading through it works from any folder.
    EXPECT_TRUE(is_index_file(file));
    EXPECT_EQ(list_models(file), (std::vector<std::string>{"a", "b"}));
    expect_same_values(read_model(file, "a"), oa);
    EXPECT_EQ(read_model(file, "b").status.text(), "failed: on purpose");
    const auto stored = store.stored();
    ASSERT_EQ(stored.size(), 2u);
    store.finish({"b", "a"});
  }
  EXPECT_FALSE(is_index_file(file));
  EXPECT_FALSE(fs::exists(file + ".parts"));
  EXPECT_EQ(list_models(file), (std::vector<std::string>{"b", "a"}));
  expect_same_values(read_model(file, "a"), oa);
  // Resuming a finished file keeps its models and adds the new one.
  const auto c = example("dtc_paid_social_centered", "c");
  const ModelOutput oc = build_output(*c, fit_model(*c, quick(*c)), quick(*c));
  {
    OutputStore store(file);
    const auto stored = store.stored();
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[0].config, to_toml(b->spec()));
    store.begin(true);
    store.write(oc);
    EXPECT_EQ(list_models(file).size(), 3u);
    store.finish({"a", "b", "c"});
  }
  EXPECT_EQ(list_models(file), (std::vector<std::string>{"a", "b", "c"}));
  expect_same_values(read_model(file, "a"), oa);
  expect_same_values(read_model(file, "c"), oc);
  // Without resume the old output goes.
  {
    OutputStore store(file);
    store.begin(false);
    store.finish({});
  }
  EXPECT_TRUE(list_models(file).empty());
  fs::remove_all(dir);
}

// What the ranks of an MPI run do, played by two stores in one process.
TEST(Output, ShardsAndAnIndexForRanks) {
  const fs::path dir = temp_dir();
  const std::string file = (dir / "run.h5").string();
  const auto a = example("dtc_paid_social_tuned", "a");
  const auto b = example("dtc_paid_social_centered", "b");
  const ModelOutput oa = build_output(*a, fit_model(*a, quick(*a)), quick(*a));
  const ModelOutput ob = build_output(*b, fit_model(*b, quick(*b)), quick(*b));
  OutputStore rank0(file), rank1(file);
  rank0.begin(false);
  rank1.join();
  rank1.write(ob);
  rank0.write(oa);
  EXPECT_EQ(list_models(file), std::vector<std::string>{"a"});  // rank 0 indexes its own
  EXPECT_EQ(rank0.write_shard("r0.h5", {"a", "b"}), (dir / "run.h5.shards" / "r0.h5").string());
  EXPECT_EQ(rank1.write_shard("r1.h5", {"a", "b"}), (dir / "run.h5.shards" / "r1.h5").string());
  rank0.finish_index({"b", "a"}, "kept.h5");
  EXPECT_TRUE(is_index_file(file));
  EXPECT_FALSE(fs::exists(file + ".parts"));
  EXPECT_FALSE(fs::exists(dir / "run.h5.shards" / "kept.h5"));
  EXPECT_EQ(list_models(file), (std::vector<std::string>{"b", "a"}));
  expect_same_values(read_model(file, "a"), oa);
  expect_same_values(read_model(file, "b"), ob);
  // One process resuming it gathers everything into one file.
  OutputStore one(file);
  EXPECT_EQ(one.stored().size(), 2u);
  one.begin(true);
  one.finish({"a", "b"});
  EXPECT_FALSE(is_index_file(file));
  EXPECT_FALSE(fs::exists(file + ".shards"));
  expect_same_values(read_model(file, "b"), ob);
  fs::remove_all(dir);
}

TEST(Schedule, LongestFirstOntoTheLeastLoadedRank) {
  EXPECT_EQ(assign_ranks({5, 4, 3, 3, 1}, 2), (std::vector<int>{0, 1, 1, 0, 1}));
  EXPECT_EQ(assign_ranks({1, 1, 1}, 1), (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(assign_ranks({2, 7}, 3), (std::vector<int>{1, 0}));
}

TEST(Schedule, CostsRefinedByMeasuredModels) {
  const auto a = example("national_media", "a");
  const auto b = example("national_media", "b");
  const auto c = example("dtc_paid_social_tuned", "c");
  const BatchItem ia{a.get(), quick(*a), {}}, ib{b.get(), quick(*b), {}}, ic{c.get(), quick(*c), {}};
  const double measured = 10 * estimated_cost(ia);  // ten times slower than estimated
  const std::vector<double> cost = refined_costs({ib, ic}, {{ia, measured}});
  EXPECT_DOUBLE_EQ(cost[0], measured);                  // same shape: its measured time
  EXPECT_DOUBLE_EQ(cost[1], 10 * estimated_cost(ic));  // other shapes: the measured ratio
  EXPECT_EQ(refined_costs({ic}, {}), std::vector<double>{estimated_cost(ic)});
}

TEST(Output, StoreRefusesUnwritablePlaces) {
  const fs::path dir = temp_dir();
  EXPECT_THROW(OutputStore((dir / "missing" / "x.h5").string()), InputError);
  EXPECT_THROW(OutputStore(dir.string()), InputError);
  EXPECT_THROW(OutputStore("/proc/herd-test.h5"), InputError);  // not writable, even by root
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
  fs::remove_all(dir);
}

// Draws depend on the model alone: not on threads, nor on what else is in the batch.
TEST(Batch, DeterministicAcrossThreadsAndBatchMembership) {
  const auto a = example("dtc_paid_social_tuned", "a");
  const auto b = example("national_media", "b");
  const auto c = example("dtc_paid_social_centered", "c");
  std::vector<BatchItem> items;
  for (const Model* m : {a.get(), b.get(), c.get()}) items.push_back({m, quick(*m, 3, 40, 30), {}});
  BatchOptions one, two;
  one.threads = 1;
  two.threads = 2;
  MemorySink s1, s2, alone;
  run_batch(items, one, s1);
  run_batch(items, two, s2);
  run_batch({items[2]}, two, alone);  // one model, chains on two threads
  auto find = [](const MemorySink& s, const std::string& n) -> const ModelOutput& {
    for (const auto& m : s.models())
      if (m.name == n) return m;
    throw std::runtime_error("missing " + n);
  };
  for (const char* n : {"a", "b", "c"}) expect_same_values(find(s1, n), find(s2, n));
  expect_same_values(find(s1, "c"), find(alone, "c"));
  // And a batch model equals fitting it directly (and judging it by the same checks).
  const SamplerOptions o = quick(*a, 3, 40, 30);
  ModelOutput direct = build_output(*a, fit_model(*a, o), o);
  judge(direct, one.checks);
  expect_same_values(find(s1, "a"), direct);
}

TEST(Batch, AFailingModelIsRecordedAndTheRestGoOn) {
  const fs::path dir = temp_dir();
  // Outcomes near 1e200 unscaled: the normal likelihood overflows at every initial point.
  std::ofstream(dir / "huge.csv") << "week,y,tv\n1,1e200,1\n2,2e200,2\n3,1e200,3\n4,3e200,1\n";
  std::ofstream(dir / "huge.toml") << "name = \"huge\"\n[data]\npath = \"huge.csv\"\noutcome = \"y\"\n"
                                      "outcome_scale = \"none\"\n[media]\nchannels = [\"tv\"]\n";
  ModelSpec spec = parse_model_config(dir / "huge.toml");
  Dataset d = read_dataset(spec);
  const Model bad(std::move(spec), std::move(d));
  const auto good = example("dtc_paid_social_tuned", "good");
  MemorySink sink;
  BatchOptions bo;
  bo.threads = 2;
  BatchItem swept{good.get(), quick(*good), {}};
  swept.attrs.text["sweep"] = "{ x = 1 }";
  const BatchResult r = run_batch({{&bad, quick(bad), {}}, swept}, bo, sink);
  EXPECT_EQ(r.ok + r.warn, 1);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(sink.models().size(), 2u);
  for (const auto& m : sink.models()) {
    if (m.name == "huge") {
      EXPECT_TRUE(m.failed());
      EXPECT_EQ(m.status.reason.rfind("chain 0 found no initial point", 0), 0u) << m.status.text();
      EXPECT_TRUE(m.groups.empty());
      EXPECT_EQ(report(m).status, m.status);
    } else {
      EXPECT_FALSE(m.failed()) << m.status.text();
      EXPECT_EQ(m.text_attrs.at("sweep"), "{ x = 1 }");
    }
  }
  fs::remove_all(dir);
}

TEST(Summary, ReportMatchesDiagnosticsOfTheDraws) {
  const auto m = example("dtc_paid_social_tuned");
  const SamplerOptions opt = quick(*m, 2, 60, 50);
  const FitResult fit = fit_model(*m, opt);
  const ModelReport r = report(build_output(*m, fit, opt));
  const auto names = output_names(*m);
  ASSERT_EQ(r.params.size(), names.size());  // the contribution array is not a parameter
  // sigma: the last coordinate.
  std::vector<double> draws;
  for (const auto& c : fit.chains)
    for (int d = 0; d < fit.draws; ++d) draws.push_back(std::exp(c.theta[static_cast<size_t>(d * fit.dim + fit.dim - 1)]));
  const Summary s = summarize(draws.data(), 2, 50);
  auto it = std::find_if(r.params.begin(), r.params.end(), [](const ParamRow& p) { return p.parameter == "sigma"; });
  ASSERT_NE(it, r.params.end());
  EXPECT_DOUBLE_EQ(it->s.mean, s.mean);
  EXPECT_DOUBLE_EQ(it->s.r_hat, s.r_hat);
  int div = 0;
  for (const auto& c : fit.chains)
    for (auto x : c.diverging) div += x;
  EXPECT_EQ(r.divergences, div);
  EXPECT_EQ(r.ebfmi.size(), 2u);
  auto beta = std::find_if(r.params.begin(), r.params.end(), [](const ParamRow& p) { return p.parameter == "beta[linkedin_awareness]"; });
  EXPECT_NE(beta, r.params.end());
}

}  // namespace
}  // namespace herd
