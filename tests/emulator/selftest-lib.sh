# selftest-lib.sh - what the emulator's self-tests share: the tool check,
# a scratch dir removed at exit with the emulator, and pass/fail counting.
#   SELFTEST_NAME=NAME; . "$here/selftest-lib.sh"     (after sourcing emu.sh)
# Sets T (the scratch dir) and failures; defines pass, fail, check, eq, jqv,
# b64url_dec and verify_jws.

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

b64url_dec() { # stdin base64url → raw bytes on stdout
    _s=$(tr '_-' '/+')
    case $((${#_s} % 4)) in
    2) _s="$_s==" ;;
    3) _s="$_s=" ;;
    esac
    printf '%s' "$_s" | base64 -d
}

# verify_jws TOKEN JWKS-FILE: RS256 signature check with the key of its kid.
verify_jws() {
    _kid=$(printf '%s' "$1" | cut -d. -f1 | b64url_dec | jq -r .kid)
    _x5c=$(jq -r --arg k "$_kid" '.keys[] | select(.kid == $k) | .x5c[0]' "$2")
    [ -n "$_x5c" ] || return 1
    printf '%s' "$_x5c" | base64 -d >"$T/cert.der"
    openssl x509 -inform DER -in "$T/cert.der" -pubkey -noout >"$T/pub.pem" || return 1
    printf '%s' "$1" | cut -d. -f1,2 | tr -d '\n' >"$T/signed"
    printf '%s' "$1" | cut -d. -f3 | b64url_dec >"$T/sig"
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/signed" >/dev/null 2>&1
}
