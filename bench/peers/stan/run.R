#!/usr/bin/env Rscript
# The Stan peer of bench/fit.cpp: the same two models (loglog_noncentered.stan,
# adstock_hill.stan), the same data scaled as herd scales it, 4 chains x (1000 warmup + 1000
# draws) on one core. Times are Stan's own (get_elapsed_time: warmup + sampling, compilation
# excluded). Run from the repository root:
#   Rscript bench/peers/stan/run.R bench/results/fit-stan.json [SHAPE ...]
# With shapes named, only those run, and their rows replace the same shapes' rows of an
# existing output file (the others are kept, with the date each was measured).
suppressMessages({
  library(rstan)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "bench/results/fit-stan.json"
only <- if (length(args) > 1) args[-1] else character(0)
examples <- "configs/examples"
here <- "bench/peers/stan"
scale_active <- function(v) v / mean(v[v > 0])

dtc <- read.csv(file.path(examples, "dtc_paid_social.csv"))
dtc_channels <- c("meta_prospecting", "meta_retargeting", "meta_advantage_shopping", "tiktok_spark",
                  "tiktok_prospecting", "snap_prospecting", "pinterest_shopping", "reddit_conversion",
                  "youtube_shorts", "linkedin_awareness")
loglog_data <- list(
  N = nrow(dtc), C = length(dtc_channels),
  log_x = sapply(dtc_channels, function(n) log(scale_active(dtc[[n]]))),
  log_y = log(dtc$conversions / mean(dtc$conversions)))

nat <- read.csv(file.path(examples, "national_media.csv"))
nat_channels <- c("tv", "radio", "search", "social", "display", "video", "ooh", "affiliates")
t <- seq_len(nrow(nat))
period <- 52.18
adstock_data <- list(
  N = nrow(nat), C = length(nat_channels), K = 2, S = 4, L = 8,
  x = sapply(nat_channels, function(n) scale_active(nat[[n]])),
  z = cbind(nat$price, nat$promo),
  season = cbind(sin(2 * pi * t / period), cos(2 * pi * t / period), sin(4 * pi * t / period), cos(4 * pi * t / period)),
  trend_x = t / nrow(nat),
  y = nat$revenue / mean(nat$revenue))

run <- function(shape, file, data) {
  model <- stan_model(file.path(here, file))
  fit <- sampling(model, data = data, chains = 4, iter = 2000, warmup = 1000, cores = 1, seed = 1, refresh = 0)
  seconds <- sum(get_elapsed_time(fit))
  params <- get_sampler_params(fit, inc_warmup = TRUE)
  leapfrogs <- sum(sapply(params, function(p) sum(p[, "n_leapfrog__"])))
  mon <- monitor(as.array(fit), warmup = 0, print = FALSE)
  ess <- mon[rownames(mon) != "lp__", "Bulk_ESS"]
  divergent <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(p) sum(p[, "divergent__"])))
  cat(sprintf("%-30s stan  %8.2f s  %10d leapfrogs  %9.0f grad/s  min ESS %6.0f  %8.1f ESS/s  %d divergences\n",
              shape, seconds, leapfrogs, leapfrogs / seconds, min(ess), min(ess) / seconds, divergent))
  list(shape = shape, measured = format(Sys.Date()), seconds = seconds, leapfrogs = leapfrogs, gradients_per_second = leapfrogs / seconds,
       min_ess_bulk = min(ess), min_ess_bulk_per_second = min(ess) / seconds, min_ess_bulk_per_draw = min(ess) / 4000,
       divergences = divergent)
}

shapes <- list(
  list("loglog_T104_C10_noncentered", "loglog_noncentered.stan", loglog_data),
  list("adstock_hill_T156_C8_L8", "adstock_hill.stan", adstock_data))
old_rows <- if (length(only) > 0 && file.exists(out)) fromJSON(out, simplifyVector = FALSE)$rows else list()
rows <- list()
for (s in shapes) {
  if (length(only) == 0 || s[[1]] %in% only) {
    rows[[length(rows) + 1]] <- run(s[[1]], s[[2]], s[[3]])
  } else {
    for (r in old_rows) if (r$shape == s[[1]]) rows[[length(rows) + 1]] <- r
  }
}
write_json(list(benchmark = "fit", peer = "stan", stan_version = as.character(packageVersion("rstan")),
                chains = 4, warmup = 1000, draws = 1000, threads = 1, rows = rows),
           out, auto_unbox = TRUE, pretty = TRUE, digits = NA)
