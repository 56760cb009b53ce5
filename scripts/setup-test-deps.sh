#!/usr/bin/env bash
# Installs the Debian packages the test suites and benchmarks need, when they are missing:
#   ffmpeg           capture/recording integration tests (system ffmpeg next to the npm-shipped one)
#   chromium         browser end-to-end tests (playwright-core drives /usr/bin/chromium)
#   python3-*        the network's PyTorch source tests, stereo/calibration references, Open3D baselines
#   libopenigtlink-dev, openigtlink-examples   the OpenIGTLink reference peer of the protocol tests
# `npm test` runs this first; CI (.ci/run) calls the same script with NAVWS_REQUIRE_SYSTEM_DEPS=1, where
# a failed install fails the run. Elsewhere a package it cannot install is reported and the tests go on
# (each test whose dependency is missing skips with a message naming the package).
# NAVWS_SKIP_SYSTEM_DEPS=1 skips it.
set -euo pipefail

PACKAGES=(ffmpeg chromium python3-torch python3-torchvision python3-onnx python3-opencv python3-open3d
  libopenigtlink-dev openigtlink-examples)

if [ "${NAVWS_SKIP_SYSTEM_DEPS:-}" = 1 ]; then
  exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup-test-deps: not a Debian/Ubuntu system; install these yourself: ${PACKAGES[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

# Could not install: a failure in CI, a warning elsewhere (the tests needing them skip, naming them).
give_up() {
  echo "setup-test-deps: $1" >&2
  echo "setup-test-deps: missing Debian packages: ${missing[*]}; an administrator can install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  if [ "${NAVWS_REQUIRE_SYSTEM_DEPS:-}" = 1 ]; then exit 1; fi
  echo "setup-test-deps: going on; the tests that need them will skip" >&2
  exit 0
}

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    give_up "not root and no password-less sudo"
  fi
fi

echo "setup-test-deps: installing ${missing[*]}"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || give_up "apt-get update failed (no network to the Debian archive?)"
"${SUDO[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" ||
  give_up "apt-get install failed"
echo "setup-test-deps: done in $(($(date +%s) - start)) s"
