# emu.sh — shell helpers to run the Entra ID emulator from tests (POSIX sh).
#
#   . tests/emulator/emu.sh
#   emu_start [EMULATOR-OPTIONS...] || exit 99
#   curl --cacert "$CA_FILE" "$AUTHORITY/$TENANT_ID/discovery/v2.0/keys"
#   emu_ctl POST /control/approve '{"claims":{"name":"Bob"}}'
#   emu_stop
#
# emu_start exports AUTHORITY, CA_FILE, CONTROL_URL, EMU_PID, EMU_DIR,
# HTTPS_PORT, CONTROL_PORT, TENANT_ID, CLIENT_ID, DOMAIN and GRAPH_URL. The emulator's
# log is "$EMU_DIR/emulator.log". The binary is $AAD_EMULATOR if set, else
# found next to this file or under ./tests/emulator/ (the build directory).

_emu_find_bin() {
    if [ -n "${AAD_EMULATOR:-}" ]; then
        printf '%s\n' "$AAD_EMULATOR"
        return 0
    fi
    # BASH_SOURCE is bash-only; other shells fall back to $0.
    # shellcheck disable=SC3028
    for _emu_c in ./tests/emulator/aad-emulator \
        "${EMU_SH_DIR:-.}/aad-emulator" \
        "$(dirname -- "${BASH_SOURCE:-$0}")/aad-emulator"; do
        if [ -x "$_emu_c" ]; then
            printf '%s\n' "$_emu_c"
            return 0
        fi
    done
    echo "emu.sh: aad-emulator not found (set AAD_EMULATOR)" >&2
    return 1
}

# emu_start [OPTIONS...]: start in the background, wait until ready (at most
# $EMU_START_TIMEOUT seconds, default 10; raise it for valgrind runs).
emu_start() {
    _emu_bin=$(_emu_find_bin) || return 1
    EMU_DIR=$(mktemp -d "${TMPDIR:-/tmp}/aad-emu.XXXXXX") || return 1
    "$_emu_bin" --state-dir "$EMU_DIR" "$@" >"$EMU_DIR/emulator.log" 2>&1 &
    EMU_PID=$!
    _emu_n=0
    while [ ! -f "$EMU_DIR/emulator.env" ]; do
        if ! kill -0 "$EMU_PID" 2>/dev/null ||
            [ "$_emu_n" -ge $((${EMU_START_TIMEOUT:-10} * 10)) ]; then
            echo "emu.sh: emulator did not start:" >&2
            cat "$EMU_DIR/emulator.log" >&2
            emu_stop
            return 1
        fi
        sleep 0.1
        _emu_n=$((_emu_n + 1))
    done
    while IFS='=' read -r _emu_k _emu_v; do
        case $_emu_k in
        HTTPS_PORT) HTTPS_PORT=$_emu_v ;;
        CONTROL_PORT) CONTROL_PORT=$_emu_v ;;
        AUTHORITY) AUTHORITY=$_emu_v ;;
        CA_FILE) CA_FILE=$_emu_v ;;
        CONTROL_URL) CONTROL_URL=$_emu_v ;;
        TENANT_ID) TENANT_ID=$_emu_v ;;
        CLIENT_ID) CLIENT_ID=$_emu_v ;;
        DOMAIN) DOMAIN=$_emu_v ;;
        GRAPH_URL) GRAPH_URL=$_emu_v ;;
        esac
    done <"$EMU_DIR/emulator.env"
    export AUTHORITY CA_FILE CONTROL_URL EMU_PID EMU_DIR HTTPS_PORT \
        CONTROL_PORT TENANT_ID CLIENT_ID DOMAIN GRAPH_URL
}

# emu_ctl METHOD PATH [JSON]: prints the response body; succeeds on 2xx.
emu_ctl() {
    _emu_out=$(mktemp "${TMPDIR:-/tmp}/emu_ctl.XXXXXX") || return 1
    if [ $# -ge 3 ]; then
        _emu_code=$(curl -sS --noproxy '*' -m 30 -X "$1" \
            -H 'Content-Type: application/json' --data-binary "$3" \
            -o "$_emu_out" -w '%{http_code}' "$CONTROL_URL$2")
    elif [ "$1" = POST ]; then
        _emu_code=$(curl -sS --noproxy '*' -m 30 -X POST \
            -H 'Content-Type: application/json' --data-binary '' \
            -o "$_emu_out" -w '%{http_code}' "$CONTROL_URL$2")
    else
        _emu_code=$(curl -sS --noproxy '*' -m 30 -X "$1" \
            -o "$_emu_out" -w '%{http_code}' "$CONTROL_URL$2")
    fi
    cat "$_emu_out"
    rm -f "$_emu_out"
    case $_emu_code in
    2??) return 0 ;;
    *) return 1 ;;
    esac
}

# emu_write_config FILE [LINE...]: a pam_aad.conf (mode 0600) pointing at the
# running emulator, as an administrator would write it, plus extra lines.
emu_write_config() {
    _emu_cfg=$1
    shift
    (
        umask 077
        printf 'tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n' \
            "$TENANT_ID" "$CLIENT_ID" "$AUTHORITY" "$CA_FILE" "$DOMAIN"
        for _emu_line in "$@"; do printf '%s\n' "$_emu_line"; done
    ) >"$_emu_cfg" && chmod 600 "$_emu_cfg"
}

# emu_https PATH [CURL-ARGS...]: curl an Entra endpoint, trusting only the CA.
emu_https() {
    _emu_p=$1
    shift
    curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" "$@" "$AUTHORITY$_emu_p"
}

# emu_stop: SIGTERM, wait (<= 5 s, then SIGKILL), remove the state dir.
emu_stop() {
    if [ -n "${EMU_PID:-}" ]; then
        kill -TERM "$EMU_PID" 2>/dev/null
        _emu_n=0
        while kill -0 "$EMU_PID" 2>/dev/null && [ "$_emu_n" -lt 50 ]; do
            sleep 0.1
            _emu_n=$((_emu_n + 1))
        done
        kill -KILL "$EMU_PID" 2>/dev/null
        wait "$EMU_PID" 2>/dev/null
    fi
    [ -n "${EMU_DIR:-}" ] && rm -rf "$EMU_DIR"
    unset EMU_PID EMU_DIR AUTHORITY CA_FILE CONTROL_URL HTTPS_PORT CONTROL_PORT \
        GRAPH_URL
    return 0
}
