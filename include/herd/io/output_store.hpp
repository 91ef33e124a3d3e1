#pragma once
// The output file of a run, safe against being killed at any moment. Each finished model
// is written to its own part file (OUT.h5.parts/, written aside and renamed into place),
// and OUT.h5 is rewritten (again aside, then renamed) as an index of external links to the
// parts: whatever instant the process dies, OUT.h5 opens and holds every finished model.
// finish() gathers all models into one self-contained OUT.h5 and removes the parts.
#include <mutex>
#include <string>
#include <vector>

#include "herd/engine/sink.hpp"
#include "herd/io/hdf5_file.hpp"

namespace herd {

/// A model already in the output (what --resume keeps).
struct StoredModel {
  std::string name, status, config;
  std::string file;  // where its group lives
};

class OutputStore : public SampleSink {
 public:
  /// Checks that `path` can be written (its folder exists and takes a new file); throws
  /// InputError naming the path otherwise. Touches nothing.
  explicit OutputStore(std::string path);

  /// Models already in the output file or its parts (for --resume); throws InputError if
  /// the file exists but is not a herd output.
  std::vector<StoredModel> stored() const;

  /// Starts writing: without resume, any old output and parts are removed; with it, the
  /// stored models are kept (a finished file is moved into the parts and indexed).
  void begin(bool resume);

  /// Writes one model's part file and a new index.
  void write(const ModelOutput& model) override;

  /// Writes one self-contained file with every model (those named in `order` first, in that
  /// order, then any others stored), replaces the index with it and removes the parts.
  void finish(const std::vector<std::string>& order);

  const std::string& path() const { return path_; }

 private:
  void write_index_locked();
  std::vector<StoredModel> scan_parts() const;

  std::string path_, parts_;
  std::mutex mutex_;
  std::vector<StoredModel> models_;  // what the index links to, in the order they finished
};

}  // namespace herd
