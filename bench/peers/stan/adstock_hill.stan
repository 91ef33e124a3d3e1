// configs/examples/national_media.toml in Stan, for the peer benchmark: geometric adstock
// (L taps, normalized by the full weight sum, weeks before the data as zero spend), Hill
// saturation, positive effects, two controls, Fourier season, linear trend t/T, normal
// likelihood, herd's priors. Data scaled as herd scales it.
data {
  int<lower=1> N;
  int<lower=1> C;
  int<lower=1> K;
  int<lower=0> S;
  int<lower=1> L;
  matrix[N, C] x;       // spend / mean over active weeks
  matrix[N, K] z;       // controls as given
  matrix[N, S] season;  // sin1, cos1, sin2, cos2 at t = 1..N, period 52.18
  vector[N] trend_x;    // t / N
  vector[N] y;          // outcome / its mean
}
parameters {
  real intercept;
  real trend;
  vector[S] season_coef;
  vector[K] gamma;
  vector<lower=0>[C] beta;
  vector<lower=0, upper=1>[C] adstock_decay;
  vector<lower=0>[C] hill_kappa;
  vector<lower=0>[C] hill_slope;
  real<lower=0> sigma;
}
model {
  vector[N] mu = intercept + trend * trend_x + season * season_coef + z * gamma;
  for (c in 1:C) {
    vector[L] w;
    real W;
    for (l in 1:L) w[l] = adstock_decay[c] ^ (l - 1);
    W = sum(w);
    for (t in 1:N) {
      real a = 0;
      for (l in 1:min(L, t)) a += w[l] * x[t - l + 1, c];
      a /= W;
      if (a > 0) mu[t] += beta[c] * inv_logit(hill_slope[c] * (log(a) - log(hill_kappa[c])));
    }
  }
  intercept ~ normal(0.5, 0.5);
  trend ~ normal(0, 0.2);
  season_coef ~ normal(0, 0.2);
  gamma ~ normal(0, 0.5);
  beta ~ normal(0, 0.3);
  adstock_decay ~ beta(1, 3);
  hill_kappa ~ gamma(6, 6);
  hill_slope ~ gamma(6, 3);
  sigma ~ normal(0, 0.1);
  y ~ normal(mu, sigma);
}
