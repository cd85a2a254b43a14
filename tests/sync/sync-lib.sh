# sync-lib.sh - what the tests of aad-login sync share: the emulator with
# the application's certificate, a configuration with provision_groups,
# the directory's controls, and pass/fail counting.
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
AAD_LOGIN=$(cd "$builddir" && pwd)/tools/aad-login
GROUP=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a0001
GROUP2=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a0002
OID_ALICE=a11ce000-0000-4000-8000-000000000001
OID_BOB=b0b00000-0000-4000-8000-000000000002
OID_CAROL=ca201000-0000-4000-8000-000000000003
OID_DAVE=da7e0000-0000-4000-8000-000000000004
OID_ROOT=20070000-0000-4000-8000-000000000005
failures=0

sync_skip() { echo "SKIP: $*"; exit 77; }

sync_require() {
    for c in curl jq openssl; do
        command -v "$c" >/dev/null || sync_skip "$c is not installed"
    done
    [ -x "$AAD_LOGIN" ] || { echo "FAIL: $AAD_LOGIN not built"; exit 1; }
}

# sync_setup: scratch dir $T (files/, state/), emulator, $T/pam_aad.conf.
sync_setup() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/pam_aad_sync.XXXXXX")
    chmod 755 "$T"
    . "$top_srcdir/tests/emulator/emu.sh"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/app.key" -out "$T/app.pem" \
        -days 2 -subj /CN=pam_aad-sync >/dev/null 2>&1 || { echo "FAIL: openssl"; exit 1; }
    chmod 600 "$T/app.key"
    emu_start --lifetime "${SYNC_EMU_LIFETIME:-240}" --interval 1 --quiet \
        --client-cert "$T/app.pem" || { echo "FAIL: emulator did not start"; exit 1; }
    trap 'sync_cleanup' EXIT INT TERM
    emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "http_timeout = 5" \
        "timeout = 120" "graph_endpoint = $GRAPH_URL" "client_certificate = $T/app.pem" \
        "client_key = $T/app.key" "provision_groups = $GROUP"
    mkdir -p "$T/files" "$T/state"
    chmod 700 "$T/state"
    emu_ctl POST /control/graph/directory "{\"group\":\"$GROUP2\"}" >/dev/null
    UID_ALICE=$(uid_of "$OID_ALICE")
}

sync_cleanup() {
    emu_stop 2>/dev/null || true
    [ -n "${T:-}" ] && rm -rf "$T"
}

# uid_of OID: candidate 0 of the documented rule (aad_sync_uid.h), by hand.
uid_of() {
    _h=$(printf 'pam_aad-uid:%s:0' "$1" | openssl dgst -sha256 -binary | od -An -N8 -tx1 | tr -d ' \n')
    _v=$(printf 'ibase=16; %s\n' "$(printf '%s' "$_h" | tr a-f A-F)" | bc)
    echo "1900000000 + $_v % 200000000" | bc
}

sync_add() { # OID UPN ENABLED
    emu_ctl POST /control/graph/directory "{\"group\":\"$GROUP\",\"add\":[{\"id\":\"$1\",\"userPrincipalName\":\"$2\",\"accountEnabled\":$3}]}" >/dev/null
}
sync_remove() { # OID
    emu_ctl POST /control/graph/directory "{\"group\":\"$GROUP\",\"remove\":[\"$1\"]}" >/dev/null
}

# run_sync [ARGS...]: one run into $T/files and $T/state; RC its exit code.
run_sync() {
    RC=0
    "$AAD_LOGIN" sync --config "$T/pam_aad.conf" --state-dir "$T/state" --files-dir "$T/files" "$@" || RC=$?
}

graph_requests() { emu_ctl GET /control/stats | jq .requests.graph; }

check() { # DESCRIPTION COMMAND... (its output is not shown)
    _d=$1
    shift
    if "$@" >/dev/null; then echo "ok   - $_d"; else echo "FAIL - $_d"; failures=$((failures + 1)); fi
}

sync_finish() {
    if [ "$failures" -ne 0 ]; then
        echo "--- last stderr"; cat "$T/err" 2>/dev/null
        echo "FAIL: $failures check(s)"
        exit 1
    fi
    echo "PASS"
}
