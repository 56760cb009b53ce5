#!/usr/bin/env bash
# Installs the Debian packages the test suites and benchmarks need, when they are missing:
#   ffmpeg           capture/recording integration tests (system ffmpeg next to the npm-shipped one)
#   chromium         browser end-to-end tests (playwright-core drives /usr/bin/chromium)
#   python3-*        the network's PyTorch source tests, stereo/calibration references, Open3D baselines
#   libopenigtlink-dev, openigtlink-examples   the OpenIGTLink reference peer of the protocol tests
# `npm test` runs this first; CI (.ci/run) calls the same script. Set NAVWS_SKIP_SYSTEM_DEPS=1 to skip it
# (tests whose dependency is missing then skip with a message naming the package).
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

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "setup-test-deps: missing Debian packages: ${missing[*]}" >&2
    echo "setup-test-deps: not root and no password-less sudo; run as an administrator:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "setup-test-deps: (or set NAVWS_SKIP_SYSTEM_DEPS=1 to run the tests that do not need them)" >&2
    exit 1
  fi
fi

echo "setup-test-deps: installing ${missing[*]}"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
echo "setup-test-deps: done in $(($(date +%s) - start)) s"
