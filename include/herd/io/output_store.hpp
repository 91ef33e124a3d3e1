#pragma once
// The output file of a run, safe against being killed at any moment. Each finished model
// is written to its own part file (OUT.h5.parts/, written aside and renamed into place),
// and OUT.h5 is rewritten (again aside, then renamed) as an index of external links to the
// parts: whatever instant the process dies, OUT.h5 opens and holds every finished model.
// A single process ends with finish(): all models gathered into one self-contained OUT.h5.
// The ranks of an MPI run each gather their models into a shard (OUT.h5.shards/), and rank 0
// ends with an index of external links into the shards (finish_index()).
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "herd/engine/sink.hpp"
#include "herd/io/hdf5_file.hpp"

namespace herd {

/// A model already in the output (what --resume keeps).
struct StoredModel {
  std::string name, status, config;
  std::string file;     // where its group lives
  double seconds = 0;   // wall time of its fit
  std::map<std::string, std::string> attrs;  // data_hash, output_options (what --resume compares)
};

class OutputStore : public SampleSink {
 public:
  /// Checks that `path` can be written (its folder exists and takes a new file); throws
  /// InputError naming the path otherwise. Touches nothing.
  explicit OutputStore(std::string path);

  /// Models already in the output file or its parts (for --resume); throws InputError if
  /// the file exists but is not a herd output.
  std::vector<StoredModel> stored() const;

  /// Starts writing (a single process, or rank 0): without resume, any old output, parts and
  /// shards are removed; with it, the stored models are kept (a finished file is moved into
  /// the shards) and indexed.
  void begin(bool resume);

  /// Starts writing on another rank of an MPI run, after rank 0's begin(): parts, no index.
  void join();

  /// Writes one model's part file and, where this process keeps it, a new index.
  void write(const ModelOutput& model) override;

  /// Writes one self-contained file with every model (those named in `order` first, in that
  /// order, then any others stored), replaces the index with it, removes parts and shards.
  void finish(const std::vector<std::string>& order);

  /// MPI, every rank: the models this process wrote, gathered into shards/`name`; returns
  /// its path, or "" if this process wrote none.
  std::string write_shard(const std::string& name, const std::vector<std::string>& order);

  /// MPI, rank 0 once every rank's shard is written: OUT.h5 becomes an index of external
  /// links into the shards (in `order`), and the parts are removed (parts of an earlier
  /// killed run that no shard holds are first gathered into shards/`kept_name`).
  void finish_index(const std::vector<std::string>& order, const std::string& kept_name);

  const std::string& path() const { return path_; }

 private:
  void write_index_locked();
  std::vector<StoredModel> scan(const std::string& dir) const;

  std::string path_, parts_, shards_;
  std::mutex mutex_;
  bool index_ = true;                 // this process keeps OUT.h5's index
  std::vector<StoredModel> models_;   // what the index links to
  std::vector<StoredModel> written_;  // what this process wrote in this run
};

}  // namespace herd
