#pragma once
// Model: one MMM built from a ModelSpec and its Dataset. Owns the scaled data and the
// parameter layout (names, supports, priors) in both precisions and hands out trivially
// copyable ModelViews for the HERD_HD math.
#include <string>
#include <utility>
#include <vector>

#include "herd/data/dataset.hpp"
#include "herd/model/model_view.hpp"
#include "herd/model/spec.hpp"

namespace herd {

/// One coordinate of the unconstrained parameter vector.
struct ParamInfo {
  std::string name;    // "beta[meta]", "adstock_decay[tiktok]", "beta_z[snap]", "sigma", ...
  std::string family;  // prior family it belongs to ("beta", "control", ...), "" for standard normals
  std::string label;   // "meta", "" for scalars
  Support support;
  Distribution prior;  // family kNone where a centered hierarchy supplies the density
  std::string stem;                // the posterior variable: "beta", "beta_geo_z", "sigma"
  std::vector<std::string> parts;  // one label per dimension ({"north", "tv"}); labels are data, never split
};

/// Owning storage behind a ModelView<Real>: every array in one 256-byte aligned block, so a
/// backend copies a model with one memcpy and rebases its view onto the copy.
template <class Real>
class ModelData {
 public:
  ModelData() = default;
  /// Copies the arrays `from` points at (lengths from its sizes) into one block.
  explicit ModelData(const ModelView<Real>& from);
  ModelData(const ModelData& o) : block_(o.block_), offsets_(o.offsets_), view_(o.rebase(block_.data())) {}
  ModelData(ModelData&&) noexcept = default;  // a moved vector keeps its buffer, so view_ stays valid
  ModelData& operator=(ModelData o) noexcept {
    block_.swap(o.block_);
    offsets_.swap(o.offsets_);
    std::swap(view_, o.view_);
    return *this;
  }

  /// The view into this block.
  const ModelView<Real>& view() const { return view_; }
  /// Bytes of the block.
  size_t bytes() const { return block_.size() * sizeof(Chunk); }
  /// The block itself.
  const void* block() const { return block_.data(); }
  /// The view as it reads a copy of block() that starts at `at` (a device address, say).
  ModelView<Real> rebase(const void* at) const;

 private:
  struct alignas(256) Chunk {
    unsigned char bytes[256];
  };
  std::vector<Chunk> block_;
  std::vector<size_t> offsets_;  // byte offset of each array, in for_each_array's order
  ModelView<Real> view_{};
};

class Model {
 public:
  /// Validates the combination (e.g. log saturation needs positive adstocked media,
  /// lognormal needs a positive outcome) and throws InputError naming file, line, column.
  Model(ModelSpec spec, Dataset data);

  const ModelSpec& spec() const { return spec_; }
  const Dataset& dataset() const { return data_; }
  int dim() const { return static_cast<int>(params_.size()); }
  const std::vector<ParamInfo>& params() const { return params_; }

  /// The view in the requested precision; valid while this Model lives and is not moved.
  template <class Real>
  ModelView<Real> view() const;

  /// The block behind view<Real>() (a device backend copies it and rebases the view).
  template <class Real>
  const ModelData<Real>& storage() const;

  /// Reals of scratch log_density_grad needs.
  int scratch_size() const;

  /// log density and gradient at unconstrained theta (double; allocates its scratch).
  double log_density_grad(const double* theta, double* grad) const;

  /// Constrained values of each coordinate, in params() order.
  std::vector<double> constrain(const double* theta) const;
  /// Inverse of constrain.
  std::vector<double> unconstrain(const std::vector<double>& values) const;

  /// Channel contributions in the outcome's units, [(g * C + c) * T + t]. For the
  /// lognormal likelihood: exp(mu) - exp(mu - term_c), what removing the channel takes away.
  std::vector<double> contributions(const double* theta) const;

  /// A table of every coordinate with its support and prior, as `herd fit` prints it.
  std::string describe() const;

 private:
  void build_layout();
  template <class Real>
  ModelData<Real> pack() const;
  void validate() const;

  ModelSpec spec_;
  Dataset data_;
  std::vector<ParamInfo> params_;
  ModelView<double> layout_{};  // sizes and offsets (pointers unused)
  ModelData<double> d64_;
  ModelData<float> f32_;
};

}  // namespace herd
