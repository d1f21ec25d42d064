#!/usr/bin/env bash
# Every test: the workspace with the programs run natively, then the program tests again
# with the programs as SBF shared objects (built here by scripts/sbf/, see the README).
# Extra arguments go to both `cargo test` runs (e.g. --release).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/sbf/setup.sh
./scripts/sbf/build.sh
echo "== a program build for deployment without ASSAY_DEPLOYER is refused"
./scripts/sbf/check-deployer.sh
echo "== workspace tests, programs native"
cargo test --workspace "$@"
echo "== program tests, programs as SBF (target/deploy/*.so)"
# --workspace (not -p assay-tests) reuses the build above: same feature set.
ASSAY_PROGRAMS=sbf cargo test --workspace --test lifecycle --test attacks --test conservation --test funds_safety --test draw_integrity --test lazy_verifiers --test undodgeable_audit --test capabilities --test economics "$@"
echo "== every benchmark at a small size (a bench that no longer runs fails here)"
./scripts/bench-smoke.sh "$@"
echo "== TypeScript clients against assay localnet (Surfpool, programs as SBF)"
# The generated client must match the committed IDLs; then types, then the suite.
profile=debug
for arg in "$@"; do [ "$arg" = --release ] && profile=release; done
(cd clients/ts && npm run --silent generate && git diff --exit-code -- src/generated \
  && npm run --silent typecheck && ASSAY_BIN="$PWD/../../target/$profile/assay" npm test)
