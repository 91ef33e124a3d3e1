// Run files: [[models]] (config and template x glob), [[sweeps]] (cartesian product, names,
// the sweep point), [run] settings, and each kind of error located in the run file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "herd/config/model_config.hpp"
#include "herd/config/run_config.hpp"
#include "herd/core/error.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

const char* const kModel = R"toml(name = "brand"
[data]
path = "brand.csv"
outcome = "sales"
[media]
channels = ["tv", "search", "social"]
groups = { paid = ["search", "social"] }
pooling = { type = "noncentered" }
[sampler]
seed = 7
)toml";

class RunConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herd_run_config_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "brands");
    write("model.toml", kModel);
    write("brand.csv", "week,sales,tv,search,social\n1,10,1,2,3\n2,11,2,3,4\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  fs::path path(const std::string& name) const { return dir_ / name; }
  // The InputError message of parsing run.toml (fails the test if it parses).
  std::string error_of(const std::string& run) {
    write("run.toml", run);
    try {
      parse_run(path("run.toml"));
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << run;
    return "";
  }
  fs::path dir_;
};

TEST_F(RunConfigTest, AModelConfigIsARunOfOne) {
  const RunSpec r = parse_run(path("model.toml"));
  EXPECT_FALSE(r.is_run_file);
  ASSERT_EQ(r.models.size(), 1u);
  EXPECT_EQ(r.models[0].spec.name, "brand");
  EXPECT_EQ(r.models[0].sweep, "");
}

TEST_F(RunConfigTest, RunSettingsModelsAndNames) {
  write("run.toml", R"toml(
[run]
output = "out/night.h5"
threads = 3
[[models]]
config = "model.toml"
[[models]]
config = "model.toml"
name = "brand_again"
)toml");
  const RunSpec r = parse_run(path("run.toml"));
  EXPECT_TRUE(r.is_run_file);
  EXPECT_EQ(r.run.output, (dir_ / "out/night.h5").lexically_normal().string());  // relative to the run file
  EXPECT_EQ(r.run.threads, 3);
  EXPECT_EQ(r.run.device, Device::kCpu);
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(r.models[0].spec.name, "brand");
  EXPECT_EQ(r.models[1].spec.name, "brand_again");
}

TEST_F(RunConfigTest, TemplateOverAGlobNamesModelsAfterTheirFiles) {
  write("brands/zeta.csv", "week,sales,tv,search,social\n1,10,1,2,3\n");
  write("brands/acme.csv", "week,sales,tv,search,social\n1,10,1,2,3\n");
  write("brands/notes.txt", "not data");
  write("run.toml", "[[models]]\ntemplate = \"model.toml\"\ndata = \"brands/*.csv\"\n");
  const RunSpec r = parse_run(path("run.toml"));
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(r.models[0].spec.name, "acme");  // sorted
  EXPECT_EQ(r.models[1].spec.name, "zeta");
  EXPECT_EQ(r.models[0].spec.data.path, (dir_ / "brands/acme.csv").lexically_normal().string());
  EXPECT_EQ(r.models[0].spec.media.channels.size(), 3u);
}

TEST_F(RunConfigTest, SweepIsTheCartesianProductInFileOrder) {
  write("run.toml", R"toml(
[[sweeps]]
config = "model.toml"
"media.pooling.multipliers.social" = [0.05, 0.5, 1.0]
"priors.beta_sigma" = ["half_normal(0.1)", "half_normal(0.2)"]
)toml");
  const RunSpec r = parse_run(path("run.toml"));
  ASSERT_EQ(r.models.size(), 6u);
  // The last key varies fastest.
  EXPECT_EQ(r.models[0].spec.name, "brand__social=0.05__beta_sigma=half_normal_0.1");
  EXPECT_EQ(r.models[1].spec.name, "brand__social=0.05__beta_sigma=half_normal_0.2");
  EXPECT_EQ(r.models[5].spec.name, "brand__social=1.0__beta_sigma=half_normal_0.2");
  EXPECT_DOUBLE_EQ(r.models[0].spec.media.pooling.multipliers.at("social"), 0.05);
  EXPECT_DOUBLE_EQ(r.models[5].spec.media.pooling.multipliers.at("social"), 1.0);
  EXPECT_EQ(to_string(r.models[1].spec.priors.family.at("beta_sigma")), "half_normal(0.2)");
  EXPECT_EQ(r.models[1].sweep,
            "{ \"media.pooling.multipliers.social\" = 0.05, \"priors.beta_sigma\" = \"half_normal(0.2)\" }");
  // Keys the sweep does not touch keep the config's values.
  EXPECT_EQ(r.models[3].spec.sampler.seed, 7u);
  EXPECT_EQ(r.models[3].spec.media.pooling.type, PoolingType::kNoncentered);
}

TEST_F(RunConfigTest, SweepKeysSharingALastSegmentAreNamedInFull) {
  write("run.toml", R"toml(
[[sweeps]]
config = "model.toml"
"sampler.seed" = [1, 2]
"media.adstock.taps" = [2]
"media.adstock.type" = ["geometric"]
"trend.type" = ["linear"]
)toml");
  const RunSpec r = parse_run(path("run.toml"));
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(r.models[1].spec.name, "brand__seed=2__taps=2__media.adstock.type=geometric__trend.type=linear");
  EXPECT_EQ(r.models[1].spec.trend, TrendType::kLinear);
  EXPECT_EQ(r.models[1].spec.media.adstock.type, AdstockType::kGeometric);
  EXPECT_EQ(r.models[1].spec.sampler.seed, 2u);
}

TEST_F(RunConfigTest, ErrorsNameTheRunFileAndPlace) {
  const std::string run = path("run.toml").string();
  // An unknown channel in a sweep key: the model reader's message, located at the key.
  std::string e = error_of("[[sweeps]]\nconfig = \"model.toml\"\n\"media.pooling.multipliers.radio\" = [0.1]\n");
  EXPECT_NE(e.find(run + ":3:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown channel \"radio\""), std::string::npos) << e;
  // A sweep over a key no config has.
  e = error_of("[[sweeps]]\nconfig = \"model.toml\"\n\"media.colour\" = [\"red\"]\n");
  EXPECT_NE(e.find(run + ":3:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key `media.colour`"), std::string::npos) << e;
  // A sweep value that is not a list.
  e = error_of("[[sweeps]]\nconfig = \"model.toml\"\n\"sampler.seed\" = 3\n");
  EXPECT_NE(e.find(run + ":3:"), std::string::npos) << e;
  EXPECT_NE(e.find("non-empty array"), std::string::npos) << e;
  // A glob that matches nothing.
  e = error_of("[[models]]\ntemplate = \"model.toml\"\ndata = \"nowhere/*.csv\"\n");
  EXPECT_NE(e.find(run + ":3:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("matches no file"), std::string::npos) << e;
  // A missing config file.
  e = error_of("[[models]]\nconfig = \"absent.toml\"\n");
  EXPECT_NE(e.find(run + ":2:10:"), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;
  // Two models with one name.
  e = error_of("[[models]]\nconfig = \"model.toml\"\n[[models]]\nconfig = \"model.toml\"\n");
  EXPECT_NE(e.find("two models are named \"brand\""), std::string::npos) << e;
  // Unknown keys and bad [run] values.
  e = error_of("[run]\noutptu = \"x.h5\"\n[[models]]\nconfig = \"model.toml\"\n");
  EXPECT_NE(e.find(run + ":2:1: unknown key `run.outptu`"), std::string::npos) << e;
  e = error_of("[run]\ndevice = \"tpu\"\n[[models]]\nconfig = \"model.toml\"\n");
  EXPECT_NE(e.find(run + ":2:10:"), std::string::npos) << e;
  e = error_of("[run]\nthreads = -1\n[[models]]\nconfig = \"model.toml\"\n");
  EXPECT_NE(e.find("`run.threads`"), std::string::npos) << e;
  // Both config and template; neither.
  e = error_of("[[models]]\nconfig = \"model.toml\"\ntemplate = \"model.toml\"\n");
  EXPECT_NE(e.find("either `config`"), std::string::npos) << e;
  e = error_of("[run]\nthreads = 1\n");
  EXPECT_NE(e.find("lists no models"), std::string::npos) << e;
  // A TOML syntax error.
  e = error_of("[[models]]\nconfig = \"model.toml\n");
  EXPECT_NE(e.find(run + ":2:"), std::string::npos) << e;
  EXPECT_NE(e.find("TOML syntax error"), std::string::npos) << e;
}

TEST_F(RunConfigTest, ErrorsInsideAModelConfigNameThatConfig) {
  write("bad.toml", std::string(kModel) + "\n[trend]\ntype = \"quadratic\"\n");
  const std::string e = error_of("[[models]]\nconfig = \"bad.toml\"\n");
  EXPECT_NE(e.find(path("bad.toml").string() + ":13:8:"), std::string::npos) << e;
}

}  // namespace
}  // namespace herd
