#!/usr/bin/env bash
# libFuzzer harnesses for SAEScope's parsers (bench/fuzz/README.md).
#   bench/fuzz/run.sh [SECONDS] [HARNESS...]  build, then fuzz each harness for
#                                             SECONDS (default 60), one at a time
#   bench/fuzz/run.sh replay [HARNESS...]     build, then run each committed
#                                             corpus once; non-zero on any finding
#   bench/fuzz/run.sh build [HARNESS...]      build only
#   bench/fuzz/run.sh summary [HARNESS...]    a table of the last fuzzing runs
# HARNESS is a name such as zip or fuzz_zip; default: every bench/fuzz/fuzz_*.cpp.
# Build folder: $SAESCOPE_FUZZ_BUILD or build-fuzz/ at the top of the source tree
# (ignored by git). There the core sources are compiled once into libcore.a
# (instrumented for coverage), each harness links against it, the working
# corpora grow in corpus/<harness>/ (resumable: a later run starts from them),
# findings land in artifacts/<harness>/ and logs in logs/<harness>.log.
# Everything runs under nice -n 19, one compiler (SAESCOPE_FUZZ_JOBS to allow
# more) and one fuzzer at a time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SAESCOPE_FUZZ_BUILD:-$root/build-fuzz}
cxx=${SAESCOPE_FUZZ_CXX:-clang++}

mode=fuzz
seconds=60
case "${1:-}" in
  replay|build|summary) mode=$1; shift ;;
  ''|*[!0-9]*) ;;
  *) seconds=$1; shift ;;
esac

harnesses=()
if [ $# -gt 0 ]; then
  for h in "$@"; do harnesses+=("fuzz_${h#fuzz_}"); done
else
  for f in "$here"/fuzz_*.cpp; do harnesses+=("$(basename "$f" .cpp)"); done
fi
for h in "${harnesses[@]}"; do
  [ -f "$here/$h.cpp" ] || { echo "run.sh: no harness $here/$h.cpp" >&2; exit 2; }
done

summarize() {  # one harness's last fuzzing log -> a Markdown table row
  local log="$build/logs/$1.log"
  [ -f "$log" ] || return 0
  local done_line runs speed rss secs found
  done_line=$(grep -a 'DONE ' "$log" | tail -n 1 || true)
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  rss=$(awk '/stat::peak_rss_mb/ {print $2}' "$log")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  found=$(grep -acE '^==[0-9]+==ERROR|^SUMMARY: |FINDING:|ALARM: working on the last Unit|out-of-memory|deadly signal' "$log" || true)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "${secs:-?}" "${runs:-?}" "${speed:-?}" \
    "$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<< "$done_line")" "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$done_line")" \
    "${rss:-?}" "$found"
}
if [ "$mode" = summary ]; then
  echo "| harness | seconds | executions | exec/s | cov | ft | peak RSS MB | finding lines |"
  echo "|---|---|---|---|---|---|---|---|"
  for h in "${harnesses[@]}"; do summarize "$h"; done
  exit 0
fi

command -v "$cxx" >/dev/null || { echo "run.sh: $cxx not found (apt install clang)" >&2; exit 2; }
mkdir -p "$build"
pkgs="libpcre2-8 icu-uc icu-i18n sqlite3 zlib"
cat > "$build/flags.mk" <<FLAGS
CXX := $cxx
ROOT := $root
PKG_CFLAGS := $(pkg-config --cflags $pkgs)
PKG_LIBS := $(pkg-config --libs $pkgs) -lcrypto
FLAGS
nice -n 19 make --no-print-directory -s -C "$build" -f "$here/fuzz.mk" -j"${SAESCOPE_FUZZ_JOBS:-1}" "${harnesses[@]}"
[ "$mode" = build ] && exit 0

# 2 GB: an allocation over it, or a resident size over it, is a finding.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25)
# LibTorch allocates globals it never frees; leaks are not what these look for.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1

status=0
for h in "${harnesses[@]}"; do
  seeds="$here/corpus/${h#fuzz_}"
  mkdir -p "$build/artifacts/$h" "$build/logs"
  if [ "$mode" = replay ]; then
    [ -d "$seeds" ] || { echo "run.sh: no corpus $seeds" >&2; status=1; continue; }
    start=$(date +%s.%N)
    if nice -n 19 "$build/$h" "${limits[@]}" -runs=0 -artifact_prefix="$build/artifacts/$h/" "$seeds" \
        > "$build/logs/$h.replay.log" 2>&1; then
      printf '%-22s replayed %4d inputs in %5.1f s\n' "$h" "$(ls "$seeds" | wc -l)" \
        "$(echo "$(date +%s.%N) - $start" | bc)"
    else
      echo "$h: FAILED replaying $seeds (log: $build/logs/$h.replay.log)" >&2
      tail -n 40 "$build/logs/$h.replay.log" >&2
      status=1
    fi
  else
    mkdir -p "$build/corpus/$h"
    echo "== $h: ${seconds} s (log: $build/logs/$h.log)"
    # The working corpus first: new inputs are written there, never into the seeds.
    if ! nice -n 19 "$build/$h" "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$h/" "$build/corpus/$h" "$seeds" > "$build/logs/$h.log" 2>&1; then
      echo "$h: FINDING (artifacts: $build/artifacts/$h/)" >&2
      status=1
    fi
    summarize "$h"
    grep -aq 'DONE ' "$build/logs/$h.log" || tail -n 30 "$build/logs/$h.log"
  fi
done
exit $status
