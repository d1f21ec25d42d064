#!/usr/bin/env bash
# A program build for deployment must name its deployer: building assay-stake and
# assay-market as SBF without ASSAY_DEPLOYER and without the `dev-deployer` feature must
# fail, with the message that says what to set. Run by scripts/test.sh after build.sh
# (it reuses that build's dependencies: only the program crate is compiled again). The
# market's build relinks the stake cdylib without its entrypoint over
# target/deploy/assay_stake.so, so the programs build.sh kept in target/sbf-out/ are put
# back at the end.
set -euo pipefail
restore() { cp target/sbf-out/*.so target/deploy/ 2>/dev/null || true; }
trap restore EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/env.sh"
cd "$ROOT"
for p in assay-stake assay-market; do
  log=$(mktemp)
  if env -u ASSAY_DEPLOYER /usr/bin/cargo --config "$HERE/cargo-config-v0.toml" build --release --quiet \
       --target "$HERE/sbpf-solana-solana.json" -p "$p" >"$log" 2>&1; then
    rm -f "$log"; echo "a deployment build of $p without ASSAY_DEPLOYER compiled: it must not" >&2; exit 1
  fi
  if ! grep -q "set ASSAY_DEPLOYER=" "$log"; then
    cat "$log" >&2; rm -f "$log"; echo "the build of $p failed, but not with the deployer message" >&2; exit 1
  fi
  rm -f "$log"
  echo "a deployment build of $p without ASSAY_DEPLOYER is refused with its message"
done
