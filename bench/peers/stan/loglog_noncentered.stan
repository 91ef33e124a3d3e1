// The seed example (configs/examples/dtc_paid_social_noncentered.toml) in Stan, for the peer
// benchmark: log-log model, non-centered pooling of the 10 campaign effects, same priors.
// Data as herd scales it: log of spend over its mean over active weeks; log of the outcome
// over its mean.
data {
  int<lower=1> N;
  int<lower=1> C;
  matrix[N, C] log_x;
  vector[N] log_y;
}
parameters {
  real intercept;
  vector[C] beta_z;
  real beta_mu;
  real<lower=0> beta_sigma;
  real<lower=0> sigma;
}
transformed parameters {
  vector[C] beta = beta_mu + beta_sigma * beta_z;
}
model {
  intercept ~ normal(0, 0.5);
  beta_z ~ std_normal();
  beta_mu ~ normal(0, 0.1);
  beta_sigma ~ normal(0, 0.1);  // half-normal through the lower bound
  sigma ~ normal(0, 0.5);
  log_y ~ normal(intercept + log_x * beta, sigma);
}
