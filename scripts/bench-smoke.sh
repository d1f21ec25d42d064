#!/usr/bin/env bash
# Every benchmark at a small size (ASSAY_BENCH_SMOKE=1), so a bench that no longer runs
# fails CI: each must exit 0 and print the `name: value` lines named below. The figures of
# a smoke run mean nothing; docs/benchmarks.md records full runs (`cargo bench`).
# Built with the test profile (`cargo test --workspace --bench`): `--workspace` keeps the
# feature set of the workspace's test build, so nothing is compiled a second time (a
# `-p` build unifies features per package and rebuilt rand, tokio, ... into fresh
# artifacts: CI once ran out of disk on them). Extra arguments go to cargo (e.g. --release). The SBF benches need target/deploy (built
# by scripts/sbf/build.sh, as scripts/test.sh does first).
set -euo pipefail
cd "$(dirname "$0")/.."

# bench  lines it must print (each bench name is unique in the workspace)
benches=(
  "gpu_bench gemm_wgpu_gflops gemm_cpu_over_wgpu merkle_over_sha256 recheck_fraction"
  "compute_units cu_settled_job_total cu_max_worst cu_over_200k cu_over_sdk_table registry_bytes market_so_bytes"
  "registry_draw draw_challenge_cu_16 draw_committee_cu_64 draw_challenge_cu_ratio_64_to_16"
  "throughput jobs_per_second_1 jobs_per_second_4 jobs_per_second_16"
  "economics_sim mean_profit_honest_provider mean_profit_cheating_provider mean_profit_lazy_verifier"
  "verifier_throughput chunks_per_second verifier_fraction verifier_fraction_end_to_end"
  "inference engine_inferences_per_s engine_one_dispatch_inferences_per_s per_layer_over_one_dispatch ort_inferences_per_s engine_over_ort verifier_over_provider ort_bound_usage"
)

log_dir=$(mktemp -d)
failed=0
for entry in "${benches[@]}"; do
  read -r bench lines <<<"$entry"
  log="$log_dir/$bench.log"
  start=$SECONDS
  if ! ASSAY_BENCH_SMOKE=1 RUST_BACKTRACE=0 cargo test -q --workspace --bench "$bench" "$@" >"$log" 2>&1; then
    echo "bench $bench: FAILED (exit status; last lines below)"
    tail -n 25 "$log"
    failed=1
    continue
  fi
  missing=()
  for name in $lines; do
    grep -Eq "^$name: [0-9.e+-]+$" "$log" || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench $bench: FAILED (no line for: ${missing[*]}; output below)"
    tail -n 40 "$log"
    failed=1
    continue
  fi
  echo "bench $bench: ok in $((SECONDS - start)) s ($(grep -Ec '^[a-z0-9_]+: [0-9.e+-]+$' "$log") name: value lines)"
done
rm -rf "$log_dir"
if [ "$failed" -ne 0 ]; then
  echo "bench smoke run: at least one bench failed" >&2
  exit 1
fi
echo "bench smoke run: every bench ran"
