#include "herd/core/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace herd {
namespace {

// Only what async-signal-safe code may touch: fixed buffers filled before the handler is on.
char g_message[4096];
char g_lock[4096];
volatile sig_atomic_t g_armed = 0;

void handle(int sig) {
  if (g_armed) {
    if (g_lock[0] != '\0') ::unlink(g_lock);
    const char* head = sig == SIGINT ? "\nherd: interrupted (SIGINT). " : "\nherd: terminated (SIGTERM). ";
    ssize_t ignored = ::write(STDERR_FILENO, head, std::strlen(head));
    ignored = ::write(STDERR_FILENO, g_message, std::strlen(g_message));
    (void)ignored;
  }
  ::_exit(128 + sig);
}

void copy_into(char* dst, size_t n, const std::string& s) {
  const size_t k = std::min(n - 1, s.size());
  std::memcpy(dst, s.data(), k);
  dst[k] = '\0';
}

}  // namespace

void on_interrupt(const std::string& message, const std::string& lock_file) {
  g_armed = 0;
  copy_into(g_message, sizeof g_message, message + "\n");
  copy_into(g_lock, sizeof g_lock, lock_file);
  g_armed = 1;
  struct sigaction sa {};
  sa.sa_handler = handle;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace herd
