#pragma once
// What stands between a command and yesterday's results: an output that exists is replaced
// only when asked, an output is never one of the run's inputs, and one writer at a time
// holds an output (an advisory flock that the kernel drops when its process dies, so a
// killed run never blocks --resume).
#include <string>
#include <vector>

namespace herd {

/// What to do with an output that is already there.
enum class ExistingOutput { refuse, resume, overwrite };

/// Throws InputError (naming the path and the flag to pass) when `output`, or the parts or
/// shards of an unfinished run on it, exist and `mode` is refuse; or when `output` resolves
/// to any of `inputs` (configs, run files, data). Touches nothing.
void check_output(const std::string& output, const std::vector<std::string>& inputs, ExistingOutput mode);

/// The lock file of an output: OUT.h5.lock beside it.
std::string lock_path(const std::string& output);

/// Holds the write lock of an output for its lifetime; the lock file is removed on release.
class OutputLock {
 public:
  /// Takes the lock or throws InputError naming the holder's pid; `what` says who asks
  /// ("herd fit", "herd analyze") for the message.
  OutputLock(const std::string& output, const std::string& what);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace herd
