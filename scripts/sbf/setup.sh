#!/usr/bin/env bash
# Installs the SBF toolchain this repository builds its programs with when Solana's own
# platform tools (`cargo build-sbf`, `anchor build`) are not available. Registry packages only:
#   - Debian's rustc-web 1.96 + cargo-web + rust-web-src (the std sources of that compiler);
#   - a copy of those std sources with std-solana.patch: std arms for target_os = "solana"
#     (allocator, TLS, io errors, fixed HashMap keys: SBF forbids writable statics) and
#     compiler-builtins' i128 intrinsics on the register ABI LLVM's libcalls use (without it
#     `u128 / 3` faults), and its memcmp/memcpy/memmove/memset on the runtime's memory
#     syscalls, as Solana's platform tools build them (byte loops cost ~6 units a byte);
#   - sbpf-linker 0.2.6 (crates.io) with sbpf-linker-v0-stack-args.patch: LLVM 23 passes the
#     6th+ call arguments through r11, which in SBPF v0 points into the unmapped gap between
#     frames; the patch keeps them in a 256-byte area at the bottom of the caller's frame
#     (hence -bpf-stack-size=3840 in cargo-config-v0.toml: 3840 + 256 = the 4 KiB frame);
#   - libLLVM 23 for the linker from Debian unstable, unpacked privately under $SBF_HOME and
#     run with that release's own loader (Debian 12's LLVM lacks BPF stack arguments).
# Idempotent: a finished setup leaves $SBF_HOME/ready (the tools) and
# $SBF_HOME/rust-src/.assay-std-patch (the patched std) and is skipped next time; a changed
# std-solana.patch only re-patches the std sources (seconds; build.sh then rebuilds std).
# First run: 4-12 minutes on 2 cores, mostly building sbpf-linker. Needs root or sudo for apt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/env.sh"
STAMP="$SBF_HOME/ready"
want="rustc-web linker $(sha256sum < "$HERE"/sbpf-linker-v0-stack-args.patch | cut -c1-16)"
# What setups before the split stamp wrote for this same linker patch.
legacy="rustc-web d3b26a2bf4219779"
std_want=$(sha256sum < "$HERE"/std-solana.patch | cut -c1-16)

# 3. std for target_os = "solana": a patched copy of rust-web-src's library/.
patch_std() {
  rm -rf "$SBF_HOME"/rust-src && mkdir -p "$SBF_HOME"/rust-src
  cp -a /usr/lib/rustlib/src/rust/library "$SBF_HOME"/rust-src/
  patch -s -p1 -d "$SBF_HOME"/rust-src/library < "$HERE"/std-solana.patch
  echo "$std_want" > "$SBF_HOME"/rust-src/.assay-std-patch
}

if [ -f "$STAMP" ] && [ -x /usr/bin/rustc ] && { [ "$(cat "$STAMP")" = "$want" ] || [ "$(cat "$STAMP")" = "$legacy" ]; }; then
  if [ "$(cat "$SBF_HOME"/rust-src/.assay-std-patch 2>/dev/null)" != "$std_want" ]; then
    patch_std
    echo "$want" > "$STAMP"
    echo "SBF toolchain ready in $SBF_HOME (std sources re-patched)"; exit 0
  fi
  echo "SBF toolchain ready in $SBF_HOME"; exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
mkdir -p "$SBF_HOME"/{bin,src}
echo "installing the SBF toolchain into $SBF_HOME (first time: 4-12 min)"

# 1. Debian's rustc-web 1.96 (LLVM 22 front end), cargo-web and the matching std sources.
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src
/usr/bin/rustc -vV | grep -E 'release|LLVM'

# 2. libLLVM 23 and its runtime libraries from Debian unstable, with a private apt state
#    (nothing from unstable is installed system-wide). The mirror is the one apt already uses.
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
  /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || { echo "setup.sh: no Debian mirror found in the apt sources" >&2; exit 1; }
A=$SBF_HOME/apt-unstable; rm -rf "$SBF_HOME"/debs; mkdir -p "$A"/lists/partial "$A"/cache/archives/partial "$SBF_HOME"/debs
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR sid main" > "$A"/sources.list
cat > "$A"/apt.conf <<L
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$A/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/cache/archives";
APT::Sandbox::User "root";
L
APT_CONFIG=$A/apt.conf $SUDO apt-get update -qq
(cd "$SBF_HOME"/debs && APT_CONFIG=$A/apt.conf apt-get download libc6 libstdc++6 libgcc-s1 \
   libedit2 libffi8 libxml2-16 libz3-4 libzstd1 zlib1g libbsd0 libmd0 libtinfo6 libllvm23 llvm-23)
rm -rf "$SBF_HOME"/root "$SBF_HOME"/llvm "$SBF_HOME"/llvm23lib
mkdir -p "$SBF_HOME"/root "$SBF_HOME"/llvm "$SBF_HOME"/llvm23lib
for d in "$SBF_HOME"/debs/*.deb; do
  case $d in *llvm-23_*) dpkg-deb -x "$d" "$SBF_HOME"/llvm ;; *) dpkg-deb -x "$d" "$SBF_HOME"/root ;; esac
done
LIB=$SBF_HOME/root/usr/lib/x86_64-linux-gnu
ln -sf "$(ls "$LIB"/libLLVM.so.23* | head -1)" "$SBF_HOME"/llvm23lib/
# Wrappers: sbpf-linker and the llvm-23 tools run with unstable's loader and libraries.
cat > "$SBF_HOME"/bin/sbpf-linker <<W
#!/bin/sh
LD_LIBRARY_PATH=$SBF_HOME/llvm23lib:$LIB exec $LIB/ld-linux-x86-64.so.2 $SBF_HOME/bin/sbpf-linker.real "\$@"
W
cat > "$SBF_HOME"/bin/unstable-run <<W
#!/bin/sh
exec $LIB/ld-linux-x86-64.so.2 --library-path $LIB "\$@"
W
chmod +x "$SBF_HOME"/bin/sbpf-linker "$SBF_HOME"/bin/unstable-run

patch_std

# 4. sbpf-linker 0.2.6 from crates.io, patched for SBPF v0 stack arguments, built by rustc-web.
export CARGO_HOME=$SBF_HOME/cargo-home
mkdir -p "$SBF_HOME"/fetch/src && cd "$SBF_HOME"/fetch
printf '[package]\nname="f"\nversion="0.0.0"\nedition="2021"\n[dependencies]\nsbpf-linker="=0.2.6"\n' > Cargo.toml
echo 'fn main(){}' > src/main.rs
/usr/bin/cargo fetch -q
cd "$SBF_HOME"/src && rm -rf sbpf-linker-0.2.6
tar xzf "$(find "$CARGO_HOME"/registry/cache -name 'sbpf-linker-0.2.6.crate' | head -1)"
cd sbpf-linker-0.2.6 && mv rust-toolchain.toml rust-toolchain.toml.orig   # it pins a nightly
patch -s -p1 < "$HERE"/sbpf-linker-v0-stack-args.patch
CARGO_TARGET_DIR=$SBF_HOME/linker-target /usr/bin/cargo install -q --path . --root "$SBF_HOME"/linker-install --locked --force
cp "$SBF_HOME"/linker-install/bin/sbpf-linker "$SBF_HOME"/bin/sbpf-linker.real
rm -rf "$SBF_HOME"/linker-target   # ~1 GB of build output
# Its "source builds ... require nightly" warning does not apply (RUSTC_BOOTSTRAP is set).
"$SBF_HOME"/bin/sbpf-linker --version
echo "$want" > "$STAMP"
echo "SBF toolchain ready in $SBF_HOME"
