#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build and run Assay:
# Mesa's software Vulkan (lavapipe) so wgpu has an adapter when no GPU is present.
# Rust itself comes from rustup (https://rustup.rs); everything else is a crate.
set -euo pipefail

need_vulkan() { ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q libvulkan.so.1; }

if need_vulkan; then
  echo "installing Mesa lavapipe (software Vulkan) and the Vulkan loader"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
echo "dependencies present"
