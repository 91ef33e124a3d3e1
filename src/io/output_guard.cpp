#include "herd/io/output_guard.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "herd/core/error.hpp"
#include "herd/io/hdf5_file.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

// The same file by inode where both exist, else by the normalized absolute path (an output
// not yet written can still name an input through "../" or a symlinked folder).
bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec) && !ec;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::string describe_existing(const std::string& output) {
  std::string what;
  if (fs::exists(output)) {
    try {
      const size_t n = list_models(output).size();
      what = "a herd output with " + std::to_string(n) + " model" + (n == 1 ? "" : "s");
    } catch (const std::exception&) {
      what = "a file that is not a herd output";
    }
  } else {
    what = "the parts of an unfinished run";
  }
  return what;
}

std::string holder_pid(int fd) {
  char buf[32] = {0};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void check_output(const std::string& output, const std::vector<std::string>& inputs, ExistingOutput mode) {
  for (const auto& in : inputs)
    if (!in.empty() && same_file(output, in))
      throw InputError(located(output, 0, 0, "the output is an input of this run (" + in +
                                                 "); write to another file"));
  if (mode != ExistingOutput::refuse) return;
  std::error_code ec;
  const bool file = fs::exists(output, ec), parts = fs::exists(output + ".parts", ec),
             shards = fs::exists(output + ".shards", ec);
  if (!file && !parts && !shards) return;
  throw InputError(located(output, 0, 0, "exists (" + describe_existing(output) +
                                             "); pass --resume to complete it, --overwrite to replace it, "
                                             "or write to another file"));
}

std::string lock_path(const std::string& output) { return output + ".lock"; }

OutputLock::OutputLock(const std::string& output, const std::string& what) : path_(lock_path(output)) {
  // A holder removes the lock file as it lets go: whoever locked an inode that is no longer
  // the path's lost that race and tries again on the new file.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw InputError(located(output, 0, 0, "cannot create the lock file " + path_ + ": " + std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string pid = holder_pid(fd_);
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK)
        throw InputError(located(output, 0, 0, what + ": another herd process" +
                                                   (pid.empty() ? "" : " (pid " + pid + ")") +
                                                   " is writing this file; try again when it has finished"));
      throw InputError(located(output, 0, 0, "cannot lock " + path_ + ": " + std::strerror(err)));
    }
    struct stat held {}, now {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      const std::string pid = std::to_string(static_cast<long>(getpid())) + "\n";
      if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // The pid is only for messages; the lock holds without it.
      }
      return;
    }
    ::close(fd_);
    fd_ = -1;
  }
  throw InputError(located(output, 0, 0, "cannot take the lock " + path_ + " (it keeps being replaced)"));
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still held: a waiter then sees a new inode and retries
  ::close(fd_);
}

}  // namespace herd
