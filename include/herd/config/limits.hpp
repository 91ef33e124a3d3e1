#pragma once
// Caps on what one run may ask for, checked while the inputs are read (before any file is
// touched), so a typo such as `draws = 1000000000` is an error at its line, not an
// allocation failure after the old output was replaced. The README lists them.
#include <cstddef>

namespace herd {

constexpr int kMaxChains = 1024;           ///< chains per model
constexpr int kMaxIterations = 1000000;    ///< warmup or draws per chain
constexpr int kMaxHarmonics = 100;         ///< Fourier pairs (and at most period / 2)
constexpr std::size_t kMaxModels = 100000; ///< models in one run file (sweep points included)
constexpr std::size_t kMaxNameLength = 200;  ///< model names (HDF5 group and part-file names)

}  // namespace herd
