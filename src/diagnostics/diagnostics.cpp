// placeholder: MCMC diagnostics arrive with the sampler issue
