#!/usr/bin/env bash
# Usage: scripts/sbf/frames.sh <package> [N]
# Prints the N (default 5) largest SBF stack frames of a program, per function, in bytes.
# The .so is stripped, so frames are read from llc's assembly of the linker's final IR
# (dumped by sbpf-linker); these llc flags reproduce the .so's code. A frame is the deepest
# `r10 - N` a function addresses below 3840 (above that lies the 256-byte stack-argument
# area of scripts/sbf's linker patch); the SBF limit is 4096.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PKG=$1; N=${2:-5}
source "$HERE/env.sh"
cd "$ROOT"
DUMP=target/sbf-frames/$PKG; rm -rf "$DUMP"; mkdir -p "$DUMP"
# The same build as build.sh: without ASSAY_DEPLOYER, the dev-deployer feature.
features=()
[ -z "${ASSAY_DEPLOYER:-}" ] && features=(--features dev-deployer)
if ! /usr/bin/cargo --config "$HERE/cargo-config-v0.toml" rustc --release --quiet \
  --target "$HERE/sbpf-solana-solana.json" -p "$PKG" --lib "${features[@]}" \
  -- -C link-arg=--dump-module="$ROOT/$DUMP" 2>"$DUMP/build.log"; then
  echo "frames.sh: the SBF build of $PKG failed:" >&2
  tail -n 20 "$DUMP/build.log" >&2
  exit 1
fi
"$SBF_HOME"/bin/unstable-run "$SBF_HOME"/llvm/usr/lib/llvm-23/bin/llc -mcpu=v2 --bpf-allows-libcalls \
  -bpf-stack-size=3840 --bpf-max-stores-per-memfunc=5 --disable-ldsx --disable-movsx \
  --disable-bswap --disable-gotox "$DUMP/post-opt.ll" -o "$DUMP/program.s"
# The rebuild above relinked target/deploy/*.so (without the dependency's entrypoint when
# the market is built): put back what build.sh made.
cp target/sbf-out/*.so target/deploy/ 2>/dev/null || true
python3 "$HERE/frames.py" "$DUMP/program.s" "$N"
