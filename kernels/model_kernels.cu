// Instantiates the model kernels for both precisions, so every HERD_CUDA=ON build proves the
// shared HERD_HD model math compiles as device code.
#include "model_kernels.cuh"

namespace herd::cuda {

template __global__ void log_density_grad_kernel<double>(ModelView<double>, int, const double*, double*, double*,
                                                         double*);
template __global__ void log_density_grad_kernel<float>(ModelView<float>, int, const float*, float*, float*, float*);

}  // namespace herd::cuda
