#include "herd/engine/sampler.hpp"

namespace herd {

void parallel_for(int n, int threads, const std::function<void(int)>& fn) {
  int t = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  t = std::max(1, std::min(t, n));
  if (t == 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  for (int k = 0; k < t; ++k)
    pool.emplace_back([&]() {
      for (int i = next++; i < n; i = next++) {
        try {
          fn(i);
        } catch (...) {
          if (!failed.exchange(true)) error = std::current_exception();
        }
      }
    });
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

std::uint64_t fnv1a(const void* data, size_t n, std::uint64_t h) {
  const auto* b = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t model_id(const std::string& name) { return fnv1a(name.data(), name.size()); }

}  // namespace herd
