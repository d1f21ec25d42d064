# Sourced by setup.sh and build.sh: where the SBF toolchain lives and how cargo finds it.
# SBF_HOME: the toolchain cache (default ~/.cache/assay-sbf); nothing is installed elsewhere
# except Debian's rustc-web/cargo-web/rust-web-src packages (/usr/bin/rustc, /usr/bin/cargo).
export SBF_HOME=${SBF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/assay-sbf}
export RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo      # Debian rustc-web / cargo-web 1.96
export RUSTC_BOOTSTRAP=1                               # -Zbuild-std and -Cpanic=immediate-abort on a stable compiler
export __CARGO_TESTS_ONLY_SRC_ROOT=$SBF_HOME/rust-src/library   # the patched copy of rust-web-src
export CARGO_TARGET_SBPF_SOLANA_SOLANA_LINKER=$SBF_HOME/bin/sbpf-linker
