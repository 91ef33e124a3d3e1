// `herd fit`: a model config or a run file, in one process or over the ranks of an MPI job.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

#include "commands.hpp"
#include "herd/config/model_config.hpp"
#include "herd/config/run_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/interrupt.hpp"
#include "herd/data/dataset.hpp"
#include "herd/engine/batch.hpp"
#include "herd/engine/cluster.hpp"
#include "herd/engine/device.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/output_guard.hpp"
#include "herd/io/output_store.hpp"
#include "herd/io/summary.hpp"
#include "progress.hpp"

namespace herd {
namespace {

// The run's models, built and validated before anything is fitted or written.
struct LoadedRun {
  RunSpec spec;
  std::vector<std::unique_ptr<Model>> models;  // Models hand out views into themselves: never moved
};

LoadedRun load_run(const FitArgs& a, bool warn_here) {
  LoadedRun run;
  run.spec = parse_run(a.config);
  std::set<std::string> warned;  // sweep points and templates repeat their config's warnings
  auto warn = [&](const std::string& w) {
    if (warn_here && warned.insert(w).second) fmt::print(stderr, "herd: warning: {}\n", w);
  };
  for (auto& rm : run.spec.models) {
    SamplerSpec& s = rm.spec.sampler;
    if (!a.algorithm.empty()) s.algorithm = *parse_choice(a.algorithm, Algorithm::kNuts, Algorithm::kChees);
    if (a.chains > 0) s.chains = a.chains;
    if (a.warmup >= 0) s.warmup = a.warmup;
    if (a.draws > 0) s.draws = a.draws;
    if (a.seed >= 0) s.seed = static_cast<std::uint64_t>(a.seed);
    Dataset data = read_dataset(rm.spec);
    // Config warnings say what, the config's path says where; data warnings carry their file.
    for (const auto& w : rm.spec.warnings) warn(located(rm.spec.source, 0, 0, w));
    for (const auto& w : data.warnings) warn(w);
    run.models.push_back(std::make_unique<Model>(rm.spec, std::move(data)));
  }
  return run;
}

// FNV-1a over what a fit reads from its data: values and labels (a resumed model must have
// been fitted to these exact numbers).
std::uint64_t data_hash(const Dataset& d, std::uint64_t h = fnv1a(nullptr, 0)) {
  h = fnv1a(d.media.data(), d.media.size() * sizeof(double), h);
  h = fnv1a(d.outcome.data(), d.outcome.size() * sizeof(double), h);
  h = fnv1a(d.control.data(), d.control.size() * sizeof(double), h);
  for (const auto* labels : {&d.dates, &d.geos, &d.channels, &d.controls})
    for (const auto& l : *labels) h = fnv1a(l.c_str(), l.size() + 1, h);  // with the NUL: "ab","c" != "a","bc"
  return h;
}

// The output choices that change what a model's group holds.
std::string output_options(const FitArgs& a) {
  return fmt::format("contributions={} prior={}", a.no_contributions ? "no" : "yes", a.prior ? "yes" : "no");
}

// What a run will do, decided before any file is touched.
struct Plan {
  LoadedRun run;
  bool single = false;  // a model config, not a run file
  std::string output;   // "" = no file (a single model without --out)
  int threads = 0;
  ConvergenceChecks checks;  // [run]'s, overridden by flags
  Device device = Device::kCpu;
  bool single_precision = false;
  std::vector<std::string> order;  // every model of the run, in run order
  std::vector<BatchItem> items;    // those to fit
  std::set<std::string> done;      // in the output already (--resume)
  std::vector<std::pair<BatchItem, double>> measured;  // done models and their wall seconds
  std::unique_ptr<OutputLock> lock;  // held from before the output is read until the process ends
};

// Every file the run reads: an output that is one of them would be destroyed by the fit.
std::vector<std::string> inputs_of(const FitArgs& a, const LoadedRun& run) {
  std::vector<std::string> in{a.config};
  for (const auto& m : run.spec.models) {
    in.push_back(m.spec.source);
    in.push_back(m.spec.data.path);
  }
  return in;
}

// A model whose draws cannot fit in this machine's memory is refused with the figure before
// any file is touched (the caps in limits.hpp bound each size, not their product).
void check_memory(const LoadedRun& run, bool contributions) {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return;
  const double physical = static_cast<double>(pages) * static_cast<double>(page);
  for (const auto& m : run.models) {
    const SamplerOptions o = options_from(m->spec());
    const Dataset& d = m->dataset();
    // Per draw: the unconstrained point, the reported values, the pointwise log likelihood,
    // the contributions and the sample statistics, in doubles.
    const double values = static_cast<double>(m->dim() + output_labels(*m).size() + d.outcome.size() +
                                              (contributions ? d.media.size() : 0) + 8);
    const double bytes = static_cast<double>(o.chains) * static_cast<double>(o.draws) * values * 8.0;
    if (bytes > 0.8 * physical)
      throw InputError(fmt::format(
          "model \"{}\": its draws would take about {:.1f} GiB of memory ({} chains x {} draws x {:.0f} values "
          "of 8 bytes), more than 80% of this machine's {:.1f} GiB; ask for fewer chains or draws{}",
          m->spec().name, bytes / 1073741824.0, o.chains, o.draws, values, physical / 1073741824.0,
          contributions ? ", or pass --no-contributions" : ""));
  }
}

// `lock`: this process writes the output (a single process, or rank 0 of an MPI run).
Plan make_plan(const FitArgs& a, bool distributed, bool warn_here, bool lock) {
  Plan p;
  p.run = load_run(a, warn_here);
  const RunSettings& rs = p.run.spec.run;
  // The flags were checked against the same spellings by the command line parser.
  const Device device = a.device.empty() ? rs.device : *parse_choice(a.device, Device::kCpu, Device::kCuda);
  const Precision precision =
      a.precision.empty() ? rs.precision : *parse_choice(a.precision, Precision::kFloat64, Precision::kFloat32);
  // Asked-for hardware that is absent is an error, never a quiet CPU run.
  if (device == Device::kCuda) {
    if (!cuda_built()) throw InputError("device cuda: herd was built without CUDA (configure with -DHERD_CUDA=ON)");
    if (cuda_device_count() == 0) throw InputError("device cuda: no CUDA device visible (" + cuda_device_report() + ")");
  }
  p.device = device;
  p.single_precision = precision == Precision::kFloat32;
  p.single = !p.run.spec.is_run_file;
  if (!a.draws_csv.empty() && !p.single)
    throw InputError(located(a.config, 0, 0, "--draws-csv takes a single model config, not a run file"));
  p.output = !a.out.empty() ? a.out : rs.output;
  if (p.output.empty() && !p.single) {
    const std::filesystem::path f = std::filesystem::absolute(a.config);
    p.output = (f.parent_path() / (f.stem().string() + ".h5")).string();
  }
  if (p.output.empty() && distributed)
    throw InputError("an MPI run writes its models to a file: give --out FILE.h5");
  if (a.resume && p.output.empty()) throw InputError("--resume needs an output file (--out FILE.h5 or [run] output)");
  p.threads = a.threads >= 0 ? a.threads : rs.threads;
  p.checks = rs.checks;
  if (a.max_rhat >= 0) p.checks.max_rhat = a.max_rhat;
  if (a.min_ess >= 0) p.checks.min_ess = a.min_ess;
  if (a.max_divergences >= 0) p.checks.max_divergences = a.max_divergences;
  if (a.min_ebfmi >= 0) p.checks.min_ebfmi = a.min_ebfmi;

  check_memory(p.run, !a.no_contributions);
  const std::vector<std::string> inputs = inputs_of(a, p.run);
  if (!a.draws_csv.empty()) {
    check_output(a.draws_csv, inputs, ExistingOutput::overwrite);
    if (!p.output.empty() && a.draws_csv == p.output) throw InputError("--draws-csv and --out name the same file");
  }
  std::vector<StoredModel> stored;
  if (!p.output.empty()) {
    const OutputStore probe(p.output);  // checks the folder; writes nothing
    check_output(p.output, inputs,
                 a.resume ? ExistingOutput::resume : a.overwrite ? ExistingOutput::overwrite : ExistingOutput::refuse);
    if (lock) p.lock = std::make_unique<OutputLock>(p.output, "herd fit");
    if (a.resume) stored = probe.stored();
  }
  for (size_t i = 0; i < p.run.models.size(); ++i) {
    const Model& m = *p.run.models[i];
    p.order.push_back(m.spec().name);
    BatchItem item;
    item.model = &m;
    item.options = options_from(m.spec());
    if (!p.run.spec.models[i].sweep.empty()) item.attrs.text["sweep"] = p.run.spec.models[i].sweep;
    // The point once more as typed attributes, one per key, that a reader can select on.
    for (const SweepValue& v : p.run.spec.models[i].point) {
      const std::string key = "sweep." + v.key;
      if (v.kind == SweepValue::Kind::kReal) item.attrs.real[key] = v.real;
      else if (v.kind == SweepValue::Kind::kInt) item.attrs.integer[key] = v.integer;
      else item.attrs.text[key] = v.text;
    }
    item.attrs.text["data_hash"] = fmt::format("{:016x}", data_hash(m.dataset()));
    item.attrs.text["output_options"] = output_options(a);
    auto it = std::find_if(stored.begin(), stored.end(), [&](const StoredModel& s) { return s.name == m.spec().name; });
    if (it == stored.end()) {
      p.items.push_back(std::move(item));
      continue;
    }
    // Files of herd versions before these attributes have none to compare: "" passes.
    std::string changed;
    auto differs = [&](const std::string& key) {
      const auto f = it->attrs.find(key);
      return f != it->attrs.end() && f->second != item.attrs.text[key];
    };
    if (it->config != to_toml(m.spec()))
      changed = "its config (priors, model or sampler settings)";
    else if (differs("data_hash"))
      changed = "its data (" + m.dataset().source + " has other values or labels now)";
    else if (differs("output_options"))
      changed = "the output options (stored: " + it->attrs.at("output_options") + "; now: " +
                item.attrs.text["output_options"] + ")";
    if (!changed.empty())
      throw InputError(located(p.output, 0, 0, "model \"" + m.spec().name + "\" in this file was fitted with other "
                                                   "inputs than the run's now: " + changed +
                                                   " changed; fit into a new file (or --overwrite), or remove it from "
                                                   "the run"));
    p.done.insert(m.spec().name);
    p.measured.emplace_back(std::move(item), it->seconds);
  }
  return p;
}

// What a signal leaves behind, said before it can arrive.
void arm_interrupt(const FitArgs& a, const Plan& p) {
  if (p.output.empty()) {
    on_interrupt("Nothing was saved (no --out).", "");
    return;
  }
  on_interrupt("Every model finished so far is safe in " + p.output + "; models in flight are dropped. `herd fit " +
                   a.config + " --out " + p.output + " --resume` completes the run.",
               p.lock ? p.lock->path() : "");
}

// 0 all ok (or warn without --strict), 1 any failed, 3 any warn and none failed with --strict.
int exit_code(const std::vector<ModelReport>& reports, bool strict) {
  auto any = [&](FitState s) {
    return std::any_of(reports.begin(), reports.end(), [&](const ModelReport& r) { return r.status.state == s; });
  };
  if (any(FitState::kFailed)) return 1;
  return strict && any(FitState::kWarn) ? 3 : 0;
}

int fit_here(const FitArgs& a) {
  Plan p = make_plan(a, false, true, true);
  if (p.single && !a.quiet) {
    const Model& m = *p.run.models.front();
    const SamplerOptions o = options_from(m.spec());
    fmt::print("{}: {} parameters, {} chains x ({} warmup + {} draws), {}, seed {}\n", m.spec().name, m.dim(),
               o.chains, o.warmup, o.draws, o.algorithm == Algorithm::kChees ? "ChEES-HMC" : "NUTS", o.seed);
    fmt::print("priors:\n{}\n", m.describe());
  } else if (!a.quiet) {
    fmt::print(stderr, "herd: {} models, {} to fit{}{}\n", p.order.size(), p.items.size(),
               p.done.empty() ? "" : fmt::format(" ({} already in {})", p.done.size(), p.output),
               p.output.empty() ? "" : ", writing " + p.output);
  }
  std::unique_ptr<OutputStore> store;
  // A finished file with nothing left to fit stays as it is.
  const bool untouched = a.resume && p.items.empty() && std::filesystem::exists(p.output) &&
                         !is_index_file(p.output) && !std::filesystem::exists(p.output + ".parts") &&
                         !std::filesystem::exists(p.output + ".shards");
  if (!p.output.empty() && !untouched) {
    store = std::make_unique<OutputStore>(p.output);
    store->begin(a.resume);
  }
  arm_interrupt(a, p);
  MemorySink memory;
  SampleSink& sink = store ? static_cast<SampleSink&>(*store) : memory;
  BatchOptions bo;
  bo.threads = p.threads;
  // Contributions only matter in a file; the printed summary leaves them out.
  bo.with_contributions = !p.output.empty() && !a.no_contributions;
  bo.with_prior = a.prior;
  bo.device = p.device;
  bo.single_precision = p.single_precision;
  bo.chunk = a.chunk;
  bo.checks = p.checks;
  try {
    {
      // A single model prints its table at the end, not a finished line; off a terminal it
      // still says how far it got every --progress-every seconds.
      Progress progress(static_cast<int>(p.items.size()), a.quiet, "herd", !(p.single && !store), a.progress_every);
      run_batch(p.items, bo, sink, &progress);
    }
    if (store) store->finish(p.order);
  } catch (const std::exception& e) {
    if (!store) throw;
    // A write that failed (a full disk): what was finished before it is in the parts.
    throw std::runtime_error(std::string(e.what()) + "\nherd: every model finished before this is safe in " +
                             p.output + "; free space and run `herd fit " + a.config + " --out " + p.output +
                             " --resume`");
  }

  std::vector<ModelReport> reports;
  if (!p.output.empty()) {
    reports = read_reports(p.output);
  } else {
    for (const auto& name : p.order)
      for (const auto& m : memory.models())
        if (m.name == name) reports.push_back(report(m));
  }
  if (p.single) {
    print_model_table(std::cout, reports.front());
    if (!a.draws_csv.empty() && !reports.front().params.empty())
      write_draws_csv(a.draws_csv,
                      p.output.empty() ? memory.models().front() : read_model(p.output, reports.front().name));
  } else {
    print_batch_table(std::cout, reports);
  }
  if (!p.output.empty() && !a.quiet) fmt::print(stderr, "herd: wrote {}\n", p.output);
  if (p.single && reports.front().status.state != FitState::kOk)
    fmt::print(stderr, "herd: {}: {}\n", reports.front().name, reports.front().status.text());
  if (p.single && p.output.empty() && !a.quiet)
    fmt::print(stderr, "herd: nothing was written (no --out); `herd fit {} --out FILE.h5` keeps the draws\n", a.config);
  return exit_code(reports, a.strict);
}

// FNV-1a over the models' resolved configs and data: ranks must fit the same run.
std::uint64_t fingerprint(const LoadedRun& run) {
  std::uint64_t h = fnv1a(nullptr, 0);
  for (const auto& m : run.models) {
    const std::string t = to_toml(m->spec());
    h = fnv1a(t.data(), t.size(), h);
    h = data_hash(m->dataset(), h);
  }
  return h;
}

// Every rank learns whether any failed; the message is printed once: by rank 0 if it failed
// (the ranks read the same inputs), else by each rank that did.
bool collective_ok(const Cluster& cl, const std::string& error) {
  const std::vector<long long> failed = cl.all_gather(error.empty() ? 0 : 1);
  if (!error.empty() && (cl.root() || failed[0] == 0))
    fmt::print(stderr, "herd: error{}: {}\n", cl.root() ? "" : fmt::format(" (rank {})", cl.rank()), error);
  return std::none_of(failed.begin(), failed.end(), [](long long f) { return f != 0; });
}

int fit_distributed(const FitArgs& a, const Cluster& cl) {
  Plan p;
  std::string error;
  try {
    p = make_plan(a, true, cl.root(), cl.root());
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!collective_ok(cl, error)) return 2;
  const auto prints = cl.all_gather(static_cast<long long>(fingerprint(p.run)));
  if (prints[static_cast<size_t>(cl.rank())] != prints[0])
    error = "this rank read other inputs than rank 0 (a different run file, config or data on this machine?)";
  if (!collective_ok(cl, error)) return 2;

  // Rank 0 prepares the output (removes or keeps what is there) before any rank writes.
  OutputStore store(p.output);
  if (cl.root()) {
    try {
      store.begin(a.resume);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (!collective_ok(cl, error)) return 2;
  if (!cl.root()) store.join();
  arm_interrupt(a, p);

  const std::vector<double> cost = refined_costs(p.items, p.measured);
  const std::vector<int> rank_of = assign_ranks(cost, cl.size());
  std::vector<BatchItem> mine;
  double my_cost = 0, total_cost = 0;
  for (size_t i = 0; i < p.items.size(); ++i) {
    total_cost += cost[i];
    if (rank_of[i] == cl.rank()) {
      mine.push_back(p.items[i]);
      my_cost += cost[i];
    }
  }
  if (cl.root() && !a.quiet)
    fmt::print(stderr, "herd: {} models, {} to fit{} over {} ranks, writing {}\n", p.order.size(), p.items.size(),
               p.done.empty() ? "" : fmt::format(" ({} already in {})", p.done.size(), p.output), cl.size(), p.output);
  const std::string who = fmt::format("herd[{}/{}]", cl.rank(), cl.size());
  if (!a.quiet)
    fmt::print(stderr, "{}: pid {}, {} models to fit ({:.0f}% of the estimated work)\n", who, static_cast<long>(getpid()),
               mine.size(), total_cost > 0 ? 100 * my_cost / total_cost : 0.0);
  BatchOptions bo;
  // Each rank takes its share of the machine's cores.
  bo.threads = p.threads > 0 ? p.threads
                             : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / cl.local_size());
  bo.with_contributions = !a.no_contributions;
  bo.with_prior = a.prior;
  bo.device = p.device;
  bo.single_precision = p.single_precision;
  bo.chunk = a.chunk;
  bo.checks = p.checks;
  // A shard per rank and run; the run's id comes from rank 0 so every rank names its shard alike.
  const std::string run_id = cl.broadcast(std::to_string(static_cast<long long>(std::time(nullptr))));
  try {
    {
      Progress progress(static_cast<int>(mine.size()), a.quiet, who, true, a.progress_every);
      run_batch(mine, bo, store, &progress);
    }
    store.write_shard("run" + run_id + "-rank" + std::to_string(cl.rank()) + ".h5", p.order);
  } catch (const std::exception& e) {
    // The other ranks would wait for this one forever: end the job. Finished parts stay, and
    // --resume picks up the rest.
    fmt::print(stderr, "{}: error: {}\n", who, e.what());
    cl.abort(1);
  }
  cl.barrier();  // every shard is written
  int code = 0;
  if (cl.root()) {
    store.finish_index(p.order, "run" + run_id + "-kept.h5");
    const std::vector<ModelReport> reports = read_reports(p.output);
    print_batch_table(std::cout, reports);
    std::cout.flush();
    if (!a.quiet) fmt::print(stderr, "herd: wrote {} (an index over the ranks' shards in {}.shards/)\n", p.output, p.output);
    code = exit_code(reports, a.strict);
  }
  return static_cast<int>(cl.sum(code));  // only rank 0 judges: every rank exits with its code
}

}  // namespace

int run_fit(const FitArgs& a) {
  const Cluster& cl = Cluster::get();
  return cl.distributed() ? fit_distributed(a, cl) : fit_here(a);
}

}  // namespace herd
