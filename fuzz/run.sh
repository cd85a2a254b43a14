#!/bin/sh
# fuzz/run.sh SECONDS [TARGET...] - builds the libFuzzer targets with clang
# directly (no autotools needed) under ASan+UBSan, replays each target's seed
# corpus (fuzz/corpus/TARGET), then fuzzes each for SECONDS and prints the
# executions and coverage (cov:, ft:) per target.
# SECONDS = 0 only replays the corpora (a regression check).
# Environment: CC (default clang), FUZZ_OUT (build and work dir, default
# fuzz/build), FUZZ_JOBS unused. Exit status: non-zero if a target crashed,
# leaked or failed to build; crash inputs are left in FUZZ_OUT/artifacts.
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$root/fuzz/build}
cc=${CC:-clang}
targets=${*:-json jwt keys devflow config sshcert}

command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (apt-get install clang)"; exit 2; }
mkdir -p "$out/obj" "$out/artifacts"
cat >"$out/config.h" <<'H'
/* minimal config.h for the fuzz build */
#define _GNU_SOURCE 1
#define PACKAGE_NAME "pam_aad"
#define PACKAGE_VERSION "fuzz"
#define AAD_SYSTEM_CA_DIR "/etc/ssl/certs"
H
deps="libcurl jansson libcrypto"
cflags="-Wall -Wextra -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
 -std=c11 -I$out -I$root/src/caller -I$root/src/groups -I$root/src/login $(pkg-config --cflags $deps)"
libs="$(pkg-config --libs $deps)"

# The whole core library, instrumented for coverage (QR codes without
# libqrencode: not under test).
objs=""
for src in "$root"/src/*/*.c; do
    o="$out/obj/$(basename "$src" .c).o"
    "$cc" $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$o" || exit 2
    objs="$objs $o"
done

status=0
summary=""
for t in $targets; do
    "$cc" $cflags -fsanitize=fuzzer "$root/fuzz/fuzz_$t.c" $objs $libs -o "$out/fuzz_$t"
    work="$out/corpus-$t"
    mkdir -p "$work"
    log="$out/fuzz_$t.log"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    common="-artifact_prefix=$out/artifacts/$t- -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1"
    # 1. replay the committed seeds (and anything found earlier)
    if ! "$out/fuzz_$t" $common -runs=0 "$root/fuzz/corpus/$t" >"$log" 2>&1; then
        echo "fuzz_$t: FAIL replaying the corpus"; tail -40 "$log"; status=1; continue
    fi
    # 2. a bounded run
    if [ "$secs" -gt 0 ]; then
        if ! "$out/fuzz_$t" $common -max_total_time="$secs" "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
            echo "fuzz_$t: FAIL (crash or leak; see $out/artifacts)"; grep -A30 "ERROR:\|runtime error" "$log" | head -60
            status=1
        fi
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    line=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    r="fuzz_$t: ${secs}s execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?}"
    summary="$summary$r
"
done
printf '\n%s' "$summary"
exit $status
