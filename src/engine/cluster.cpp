#include "herd/engine/cluster.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "herd/core/error.hpp"

#ifndef HERD_WITH_MPI
#define HERD_WITH_MPI 0
#endif
#if HERD_WITH_MPI
#include <mpi.h>
#endif

namespace herd {
namespace {

int env_int(const char* name) {
  const char* s = std::getenv(name);
  return s ? std::atoi(s) : 0;
}

// How many processes an MPI launcher started: mpirun/mpiexec (Open MPI, MPICH/PMI) and srun
// (a job step's tasks; the batch script's own step, id 4294967294, is not one). 1 when no
// launcher is seen, -1 when one is (PMIx) but says no size.
int launcher_size() {
  if (int n = env_int("OMPI_COMM_WORLD_SIZE")) return n;
  if (int n = env_int("PMI_SIZE")) return n;
  const char* step = std::getenv("SLURM_STEP_ID");
  if (step && std::strtoul(step, nullptr, 10) < 4294967294ul)
    if (int n = env_int("SLURM_STEP_NUM_TASKS")) return n;
  return std::getenv("PMIX_RANK") ? -1 : 1;
}

#if HERD_WITH_MPI
bool mpi_on = false;
#endif

}  // namespace

bool mpi_built() { return HERD_WITH_MPI != 0; }

Cluster& Cluster::get() {
  static Cluster c = [] {
    Cluster k;
    const int launched = launcher_size();
#if HERD_WITH_MPI
    if (launched > 1 || launched < 0) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      mpi_on = true;
      MPI_Comm_rank(MPI_COMM_WORLD, &k.rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &k.size_);
      MPI_Comm local;
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, k.rank_, MPI_INFO_NULL, &local);
      MPI_Comm_size(local, &k.local_size_);
      MPI_Comm_free(&local);
    }
#else
    if (launched > 1)
      throw InputError("started as " + std::to_string(launched) +
                       " processes by an MPI launcher, but herd was built without MPI: each would fit the whole run "
                       "into the same file. Configure with -DHERD_MPI=ON, or run one herd process.");
#endif
    return k;
  }();
  return c;
}

void Cluster::finalize() {
#if HERD_WITH_MPI
  if (mpi_on) {
    MPI_Finalize();
    mpi_on = false;
  }
#endif
}

void Cluster::barrier() const {
#if HERD_WITH_MPI
  if (size_ > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

long long Cluster::sum(long long v) const {
#if HERD_WITH_MPI
  if (size_ > 1) {
    long long out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return out;
  }
#endif
  return v;
}

std::vector<long long> Cluster::all_gather(long long v) const {
  std::vector<long long> out(static_cast<size_t>(size_), v);
#if HERD_WITH_MPI
  if (size_ > 1) MPI_Allgather(&v, 1, MPI_LONG_LONG, out.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
#endif
  return out;
}

std::string Cluster::broadcast(const std::string& text) const {
#if HERD_WITH_MPI
  if (size_ > 1) {
    long long n = static_cast<long long>(text.size());
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::string out = rank_ == 0 ? text : std::string(static_cast<size_t>(n), '\0');
    MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
    return out;
  }
#endif
  return text;
}

void Cluster::abort(int code) const {
#if HERD_WITH_MPI
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

std::vector<int> assign_ranks(const std::vector<double>& cost, int ranks) {
  std::vector<size_t> order(cost.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<double> load(static_cast<size_t>(std::max(ranks, 1)), 0);
  std::vector<int> out(cost.size(), 0);
  for (size_t i : order) {
    const auto r = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[i] = static_cast<int>(r);
    load[r] += cost[i];
  }
  return out;
}

}  // namespace herd
