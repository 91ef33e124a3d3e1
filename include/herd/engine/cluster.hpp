#pragma once
// The processes of a run: one, or the ranks of an MPI job. Built with HERD_MPI and started
// by mpirun or srun, herd joins MPI; otherwise it is rank 0 of 1 and never touches MPI.
#include <string>
#include <vector>

namespace herd {

class Cluster {
 public:
  /// Joins MPI when this process was started by an MPI launcher (HERD_MPI builds); throws
  /// InputError when a launcher started several copies of a build without MPI.
  static Cluster& get();
  /// Leaves MPI (no-op for a single process).
  static void finalize();

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_size() const { return local_size_; }  // ranks on this machine
  bool root() const { return rank_ == 0; }
  bool distributed() const { return size_ > 1; }

  void barrier() const;
  /// Sum over ranks.
  long long sum(long long v) const;
  /// Every rank's value, on every rank.
  std::vector<long long> all_gather(long long v) const;
  /// Rank 0's text, on every rank.
  std::string broadcast(const std::string& text) const;
  /// Ends every rank (after an error some ranks cannot report collectively).
  [[noreturn]] void abort(int code) const;

 private:
  Cluster() = default;
  int rank_ = 0, size_ = 1, local_size_ = 1;
};

/// True if herd was built with HERD_MPI.
bool mpi_built();

/// Splits items over ranks, longest first onto the least loaded rank (LPT). Returns the rank
/// of each item; the same on every rank for the same costs.
std::vector<int> assign_ranks(const std::vector<double>& cost, int ranks);

}  // namespace herd
