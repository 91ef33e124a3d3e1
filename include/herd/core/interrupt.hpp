#pragma once
// SIGINT / SIGTERM during a long command: models already written are safe (they are renamed
// into place whole), so the process says what is kept and how to go on, drops the lock and
// ends at once with 128 + the signal's number, leaving models in flight behind.
#include <string>

namespace herd {

/// Installs the handlers. `message` is printed to stderr as is when a signal arrives;
/// `lock_file` (may be "") is removed first, so the lock is gone even before the kernel
/// drops it. Later calls replace both.
void on_interrupt(const std::string& message, const std::string& lock_file);

}  // namespace herd
