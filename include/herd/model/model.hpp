#pragma once
// Model: one MMM built from a ModelSpec and its Dataset. Owns the scaled data and the
// parameter layout (names, supports, priors) in both precisions and hands out trivially
// copyable ModelViews for the HERD_HD math.
#include <string>
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

/// Owning storage behind a ModelView<Real>.
template <class Real>
struct ModelData {
  ModelView<Real> base{};  // sizes, flags and offsets; pointers filled by view()
  std::vector<Real> x, y, z, season, multiplier;
  std::vector<int> effect_kind, group;
  std::vector<LiftView<Real>> lift;
  std::vector<SupportView<Real>> support;
  std::vector<PriorView<Real>> prior;
  std::vector<PriorView<Real>> effect_prior;
  ModelView<Real> view() const;
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

  /// The arrays behind view<Real>() (the CUDA executor copies them to the device).
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
  void fill(ModelData<Real>& d) const;
  void validate() const;

  ModelSpec spec_;
  Dataset data_;
  std::vector<ParamInfo> params_;
  ModelView<double> layout_{};  // sizes and offsets (pointers unused)
  ModelData<double> d64_;
  ModelData<float> f32_;
};

}  // namespace herd
