#!/usr/bin/env bash
# Builds assay-stake and assay-market as SBPF v0 programs with the toolchain setup.sh
# installed: target/deploy/assay_stake.so and target/deploy/assay_market.so.
# This is the repository's own route (Debian rustc-web + sbpf-linker, see setup.sh), for
# machines without Solana's platform tools; `anchor build` remains the way to build what
# you deploy. The link enforces the 4 KiB SBF stack frame: a function whose frame exceeds
# it fails the build, so a successful build is the stack test.
# Writes only under target/ (target/sbpf-solana-solana/, target/deploy/); the cargo config
# and target spec come from this folder, so .cargo/config.toml is untouched.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/env.sh"
[ -x "$SBF_HOME/bin/sbpf-linker.real" ] || { echo "no SBF toolchain in $SBF_HOME: run scripts/sbf/setup.sh first" >&2; exit 1; }
cd "$ROOT"
mkdir -p target/deploy target/sbf-out
# Cargo does not see a change in the std sources: a build of an older patch is removed.
std_patch="$SBF_HOME/rust-src/.assay-std-patch"
[ -f "$std_patch" ] || { echo "no patched std in $SBF_HOME: run scripts/sbf/setup.sh first" >&2; exit 1; }
if ! cmp -s "$std_patch" target/sbpf-solana-solana/.assay-std-patch; then
  rm -rf target/sbpf-solana-solana && mkdir -p target/sbpf-solana-solana
  cp "$std_patch" target/sbpf-solana-solana/.assay-std-patch
fi
# Which key may initialize the programs. These builds are for the local bank, the tests and
# `assay localnet`: without ASSAY_DEPLOYER they opt in, by the `dev-deployer` feature, to
# the public development key (never deploy them). A program build with neither does not
# compile.
features=()
if [ -z "${ASSAY_DEPLOYER:-}" ]; then
  features=(--features dev-deployer)
  echo "SBF build for local use: the programs accept the public development deployer (dev-deployer)"
fi
# Each program on its own: sbpf-linker writes target/deploy/<name>.so, and building the
# market (which depends on the stake program's `cpi` feature) relinks the stake cdylib
# without its entrypoint over target/deploy/assay_stake.so. So each .so is kept in
# target/sbf-out/ right after its own build and put back into target/deploy/ at the end.
for pkg in "${@:-assay-stake assay-market}"; do
  for p in $pkg; do
    so=${p//-/_}
    log=$(mktemp)
    if ! /usr/bin/cargo --config "$HERE/cargo-config-v0.toml" build --release --quiet \
         --target "$HERE/sbpf-solana-solana.json" -p "$p" "${features[@]}" 2>"$log"; then
      cat "$log" >&2; rm -f "$log"; echo "SBF build of $p failed" >&2; exit 1
    fi
    # Any stack warning from the linker or LLVM fails the build as well.
    if grep -iE "stack (offset|size)|exceeded max offset|frame" "$log" >&2; then
      rm -f "$log"; echo "SBF build of $p: stack warnings (above)" >&2; exit 1
    fi
    rm -f "$log"
    cp "target/deploy/$so.so" "target/sbf-out/$so.so"
  done
done
for so in target/sbf-out/*.so; do
  cp "$so" target/deploy/
  echo "target/deploy/$(basename "$so") ($(stat -c %s "$so") bytes)"
done
