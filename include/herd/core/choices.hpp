#pragma once
// The run's choices as enums, parsed once where they are read (config, run file, flag) and
// compared as values everywhere else. to_string gives the spelling users write.
#include <optional>
#include <string>

namespace herd {

enum class Algorithm { kNuts, kChees };      ///< sampler.algorithm
enum class MetricKind { kPooled, kPerChain };  ///< sampler.metric
enum class Device { kCpu, kCuda };           ///< run.device, --device
enum class Precision { kFloat64, kFloat32 };  ///< run.precision, --precision

inline const char* to_string(Algorithm v) { return v == Algorithm::kNuts ? "nuts" : "chees"; }
inline const char* to_string(MetricKind v) { return v == MetricKind::kPooled ? "pooled" : "per_chain"; }
inline const char* to_string(Device v) { return v == Device::kCpu ? "cpu" : "cuda"; }
inline const char* to_string(Precision v) { return v == Precision::kFloat64 ? "float64" : "float32"; }

/// The enum value spelled `s` among `E`'s two values, or nothing.
template <class E>
std::optional<E> parse_choice(const std::string& s, E a, E b) {
  if (s == to_string(a)) return a;
  if (s == to_string(b)) return b;
  return std::nullopt;
}

}  // namespace herd
