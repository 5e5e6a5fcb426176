#!/usr/bin/env bash
# SAEScope's one entry point for newcomers and CI.
#   ./saescope.sh              set up, build, run the main job: the app on the embedded demo, or
#                              without a display the same job headless (report in build/demo-report)
#   ./saescope.sh test [--asan]  set up, build, run every test (CTest); --asan: Debug + ASan/UBSan build
# Idempotent: installs only missing Debian packages, reuses the build folder.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

packages=(build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-svg-dev libtorch-dev libopenblas0-pthread
  libqcustomplot-dev libqcustomplot2.1-qt6 libsqlite3-dev nlohmann-json3-dev
  libcli11-dev libpcre2-dev libicu-dev libssl-dev zlib1g-dev wordnet-base xvfb xauth appstream dpkg-dev
  poppler-utils  # poppler-utils: the report test renders and reads its PDF
  curl ca-certificates  # the tokenizer test fetches real tokenizer.json files (tools/fetch_tokenizer_fixtures.sh)
  clang libclang-rt-14-dev  # libFuzzer and the sanitizers for bench/fuzz (libclang-rt: only recommended by clang); the fuzz_replay test replays its corpora, skipped without them
  libgloo-dev)  # c10d's ProcessGroupGloo headers include gloo's: distributed runs (core/distributed)

setup() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "saescope.sh: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {  # build PRESET DIR  (presets in CMakePresets.json)
  [ -f "$2/build.ninja" ] || cmake --preset "$1"
  cmake --build "$2" -j "$(nproc)"
}

main_job() {
  build release build
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec build/app/saescope "$@"
  fi
  echo "saescope.sh: no display; running the demo headless (report in build/demo-report)" >&2
  exec build/app/saescope-cli demo --out build/demo-report
}

test_job() {
  local preset=release dir=build
  if [ "${1:-}" = "--asan" ]; then
    preset=asan dir=build-asan
    # LibTorch and Qt are not built with ASan: leaks inside them are not ours.
    export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
  fi
  build "$preset" "$dir"
  cd "$dir"
  ctest --output-on-failure -j 1
}

setup
case "${1:-run}" in
  run) shift || true; main_job "$@" ;;
  test) shift; test_job "$@" ;;
  *) echo "usage: $0 [run|test [--asan]]" >&2; exit 2 ;;
esac
