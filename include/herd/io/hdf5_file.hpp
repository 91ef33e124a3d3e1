#pragma once
// HDF5 files in netCDF-4 form (dimension scales as coordinate variables, CF-style
// attributes) so xarray, netCDF4 and ArviZ open every group as is. One model is one HDF5
// group holding the InferenceData groups of ModelOutput.
#include <string>
#include <utility>
#include <vector>

#include "herd/output/model_output.hpp"

namespace herd {

/// Called first in main: HDF5 skips its clean-up at exit, which crashes on the handles of a
/// file whose write failed (a full disk). Every file herd writes is closed explicitly.
void hdf5_no_cleanup_at_exit();

/// Writes models one by one into a new file at `path` (root attribute `models` lists them):
/// first into a temporary beside it, renamed into place by commit(), so the file at `path` is
/// always whole. Destroyed without commit(), it removes the temporary.
class ModelFileWriter {
 public:
  explicit ModelFileWriter(std::string path);
  ~ModelFileWriter();
  ModelFileWriter(const ModelFileWriter&) = delete;
  ModelFileWriter& operator=(const ModelFileWriter&) = delete;
  /// Writes one model group.
  void add(const ModelOutput& model);
  /// Closes the file and moves it to `path`.
  void commit();

 private:
  std::string path_, tmp_;
  long long file_ = -1;  // hid_t
  std::vector<std::string> names_;
};

/// A model that lives in another file (a part of a run): the index links to it.
struct ModelLink {
  std::string name;  // group name in the index
  std::string file;  // relative to the index file's folder
};

/// Writes an index file whose root groups are HDF5 external links into the part files,
/// atomically like write_models_file. netCDF-4 (xarray's default engine) follows them.
void write_index_file(const std::string& path, const std::vector<ModelLink>& links);

/// The models of a file (an index's links included), in the order the file lists them.
std::vector<std::string> list_models(const std::string& path);

/// True if the file's root holds external links (an index of an unfinished run).
bool is_index_file(const std::string& path);

/// Adds (or replaces) one group inside each named model of a finished file, e.g. `analysis`;
/// the file is edited as a copy and renamed into place. Refuses an index file.
void add_groups(const std::string& path, const std::vector<std::pair<std::string, DataGroup>>& groups);

/// What to read of a model.
struct ReadOptions {
  std::vector<std::string> skip;  // variables not to read (e.g. "contribution")
  bool attrs_only = false;        // status, config and the other attributes, no data groups
};

/// Reads one model group back into memory.
ModelOutput read_model(const std::string& path, const std::string& model, const ReadOptions& options = {});

}  // namespace herd
