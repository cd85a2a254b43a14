# selftest-lib.sh - what the emulator's self-tests share: the tool check,
# a scratch dir removed at exit with the emulator, and pass/fail counting.
#   SELFTEST_NAME=NAME; . "$here/selftest-lib.sh"     (after sourcing emu.sh)
# Sets T (the scratch dir) and failures; defines pass, fail, check, eq, jqv.

for tool in curl jq openssl base64; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not installed"
        exit 77
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/${SELFTEST_NAME:-emu_selftest}.XXXXXX") || exit 99
failures=0
cleanup() {
    emu_stop
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "ok   - $*"; }
fail() {
    echo "FAIL - $*"
    failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
    _d=$1
    shift
    if "$@"; then pass "$_d"; else fail "$_d"; fi
}
eq() { [ "$1" = "$2" ] || { echo "     got '$1', want '$2'" >&2; return 1; }; }
jqv() { jq -r "$2" "$1"; } # jqv FILE FILTER
