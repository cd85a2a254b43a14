#!/bin/sh
# test_aad_token.sh - `aad-login token` as a script uses it (token_store =
# none: every run signs in; keeping the sign-in is test_aad_token_cache.sh), against the
# emulator and its protected API (GET /api/whoami, which checks the bearer
# token's signature, aud, iss, exp and permission):
#   user_token_calls_the_protected_api: device code (the emulator approves),
#     the token on stdout alone, accepted by the API as delegated (scp);
#   code_reaches_the_terminal_when_stderr_is_redirected (2>file: /dev/tty);
#   user_token_json_has_expiry_scope_upn_and_oid;
#   app_token_calls_the_protected_api: client credentials with the
#     configured certificate, accepted as the application (roles);
#   app_token_with_certificate_and_key_on_the_command_line;
#   key_readable_by_group_is_refused (exit 4, nothing sent);
#   unknown_certificate_is_refused (AADSTS700027, exit 4);
#   service_failure_is_unavailable (503 temporarily_unavailable, exit 3);
#   refused_consent_is_refused (AADSTS65001: the host's registration lacks
#     consent, exit 4);
#   expired_code_is_refused (the emulator expires the code, exit 1);
#   api_refuses_a_graph_token_and_a_tampered_one (aud, signature);
#   api_refuses_an_expired_token_and_one_without_the_role (exp, roles);
#   bad_usage_is_exit_2;
# and for every run: no token reached the terminal (stderr and /dev/tty,
# a pty recorded by script(1)), the tool's log (-d: debug lines on stderr),
# the emulator's log, or any process's argv or environment (/proc/*/cmdline
# and /proc/*/environ of every process of the test, sampled while the runs
# go on).
# Exit: 0 pass, 1 fail, 77 skipped (no jq/openssl/script), 99 hard error.
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
AAD_LOGIN="$builddir/tools/aad-login"
. "$top_srcdir/tests/emulator/emu.sh"
for t in jq openssl script curl; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done

rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/aad-token-test.XXXXXX")
watcher=
cleanup() {
    : >"$work/stop"
    [ -n "$watcher" ] && wait "$watcher" 2>/dev/null
    emu_stop || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/app.key" -out "$work/app.pem" \
    -days 2 -subj /CN=pam_aad-token-test 2>/dev/null || exit 99
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/other.key" -out "$work/other.pem" \
    -days 2 -subj /CN=not-registered 2>/dev/null || exit 99
chmod 600 "$work/app.key" "$work/other.key"

emu_start --lifetime 240 --interval 0 --client-cert "$work/app.pem" || exit 99
API=api://aad-emulator-api
emu_ctl POST /control/auto-approve '{"delay_ms":1000,"count":-1}' >/dev/null || exit 99
emu_write_config "$work/pam_aad.conf" "cache_dir = $work/cache" "qr = yes" "timeout = 30" \
    "token_store = none" \
    "client_certificate = $work/app.pem" "client_key = $work/app.key"
emu_write_config "$work/nocert.conf" "cache_dir = $work/cache" "qr = no" "timeout = 30" \
    "token_store = none"

# Every JWT the emulator signs (ID, access tokens) and every client
# assertion starts with one of these headers, base64url-encoded.
JWT_RE='eyJ0eXAiOiJKV1Qi[A-Za-z0-9_-]*\.eyJ\|eyJhbGciOi[A-Za-z0-9_-]*\.eyJ'

# Samples the argv and environment of every process of this test until
# $work/stop exists; records a sample holding a token, and whether
# aad-login was seen at all. "Of this test": its environment carries
# AAD_TOKEN_TEST_RUN (inherited by every child: script, aad-login, curl),
# so that other suites running on the same machine (whose own curl may
# carry a test assertion in its arguments) are not counted.
AAD_TOKEN_TEST_RUN=$work
export AAD_TOKEN_TEST_RUN
(
    n=0
    while [ ! -e "$work/stop" ]; do
        grep -l -a -F -s "AAD_TOKEN_TEST_RUN=$work" /proc/[0-9]*/environ |
            sed 's#/environ$##' >"$work/pids"
        while read -r d; do cat "$d/cmdline" "$d/environ"; done <"$work/pids" 2>/dev/null |
            tr '\0' '\n' >"$work/sample"
        grep -a -- "$JWT_RE" "$work/sample" >>"$work/leaks"
        grep -a -q -- '^token$' "$work/sample" && grep -a -q -- 'aad-login$' "$work/sample" &&
            : >"$work/saw-aad-login"
        n=$((n + 1))
        sleep 0.05
    done
    echo "$n" >"$work/samples"
) &
watcher=$!
# The sampler must catch a token in an argument and in an environment.
CANARY_ARG=eyJ0eXAiOiJKV1QiQ0FOQVJZ.eyJhcmd2
CANARY_ENV=eyJ0eXAiOiJKV1QiQ0FOQVJZ.eyJlbnZp
sh -c 'sleep 1' sh "$CANARY_ARG" &
env AAD_TOKEN_TEST_CANARY="$CANARY_ENV" sleep 1 &

# run NAME ARGS...: aad-login token ARGS with a pty as its terminal (stderr
# and /dev/tty, recorded in NAME.tty), stdout to NAME.out; exit in NAME.rc.
# With RUN_STDERR=file, stderr goes to NAME.err instead of the pty.
run() {
    name=$1
    shift
    # script -c takes one command line: the arguments (paths and scopes
    # without quotes in them) are single-quoted into it.
    cmd="'$AAD_LOGIN' token -d"
    for a in "$@"; do cmd="$cmd '$a'"; done
    [ "${RUN_STDERR:-}" = file ] && cmd="$cmd 2>'$work/$name.err'"
    rm -f "$work/$name.rc"
    script -q -e -c "$cmd >'$work/$name.out' </dev/null; echo \$? >'$work/$name.rc'" \
        "$work/$name.tty" </dev/null >/dev/null 2>&1
    cat "$work/$name.rc" 2>/dev/null || echo 99
}

# call_api TOKEN-FILE: GET /api/whoami with the token from the file (in
# curl's config on stdin, never in an argument); body on stdout, status in
# $work/api.status.
call_api() {
    { printf 'header = "Authorization: Bearer '; tr -d '\n' <"$1"; printf '"\n'; } |
        curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" --config - \
            -o "$work/api.body" -w '%{http_code}' "$AUTHORITY/api/whoami" >"$work/api.status"
    cat "$work/api.body"
}

# no_token_leaked NAME TOKEN-FILE: the token is in NAME.out and nowhere else.
no_token_leaked() {
    tok=$(tr -d '\n' <"$2")
    for f in "$work/$1.tty" "$EMU_DIR/emulator.log"; do
        if grep -a -q -F -- "$tok" "$f"; then
            fail "$1: the token reached $(basename "$f")"
            return 1
        fi
        if grep -a -q -- "$JWT_RE" "$f"; then
            fail "$1: a token-like string reached $(basename "$f")"
            return 1
        fi
    done
    return 0
}

# --- user_token_calls_the_protected_api -------------------------------------
st=$(run user --config "$work/pam_aad.conf" --scope "$API/Data.Read")
body=$(call_api "$work/user.out")
if [ "$st" != 0 ]; then
    fail "user_token_calls_the_protected_api: exit $st: $(tr -d '\r' <"$work/user.tty" | tail -3)"
elif [ "$(wc -l <"$work/user.out")" != 1 ] || [ "$(cat "$work/api.status")" != 200 ] ||
    [ "$(echo "$body" | jq -r '.kind + " " + .scp + " " + .upn')" != \
        "delegated Data.Read alice@$DOMAIN" ]; then
    fail "user_token_calls_the_protected_api: API $(cat "$work/api.status"): $body"
elif ! grep -a -q 'enter the code [A-Z]' "$work/user.tty" || ! grep -a -q '█' "$work/user.tty"; then
    fail "user_token_calls_the_protected_api: the code and QR code were not on the terminal"
elif no_token_leaked user "$work/user.out"; then
    ok "user_token_calls_the_protected_api (code and QR on the terminal, token on stdout only)"
fi

# --- code_reaches_the_terminal_when_stderr_is_redirected ----------------------
st=$(RUN_STDERR=file run redirected --config "$work/pam_aad.conf" --scope "$API/Data.Read")
if [ "$st" = 0 ] && grep -a -q 'enter the code [A-Z]' "$work/redirected.tty" &&
    ! grep -a -q 'enter the code' "$work/redirected.err" && [ -s "$work/redirected.out" ]; then
    no_token_leaked redirected "$work/redirected.out" &&
        ! grep -a -q -- "$JWT_RE" "$work/redirected.err" &&
        ok "code_reaches_the_terminal_when_stderr_is_redirected (on /dev/tty)"
else
    fail "code_reaches_the_terminal_when_stderr_is_redirected: exit $st: $(head -c 300 "$work/redirected.err")"
fi

# --- user_token_json_has_expiry_scope_upn_and_oid ---------------------------
st=$(run json --config "$work/pam_aad.conf" --json --scope "$API/.default")
jq -r .access_token "$work/json.out" >"$work/json.token" 2>/dev/null
summary=$(jq -r '[.token_type, (.expires_in > 3000), (.expires_on > now), .scope, .upn, .oid] | map(tostring) | join(" ")' \
    "$work/json.out" 2>/dev/null)
call_api "$work/json.token" >/dev/null
if [ "$st" = 0 ] && [ "$(cat "$work/api.status")" = 200 ] &&
    [ "$summary" = "Bearer true true $API/Data.Read alice@$DOMAIN 4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71" ]; then
    no_token_leaked json "$work/json.token" && ok "user_token_json_has_expiry_scope_upn_and_oid"
else
    fail "user_token_json_has_expiry_scope_upn_and_oid: exit $st, $summary, API $(cat "$work/api.status")"
fi

# --- app_token_calls_the_protected_api --------------------------------------
st=$(run app --config "$work/pam_aad.conf" --app --scope "$API/.default")
body=$(call_api "$work/app.out")
if [ "$st" = 0 ] && [ "$(cat "$work/api.status")" = 200 ] &&
    [ "$(echo "$body" | jq -r '.kind + " " + .roles[0] + " " + .appid')" = \
        "app Data.Read.All $CLIENT_ID" ]; then
    no_token_leaked app "$work/app.out" && ok "app_token_calls_the_protected_api"
else
    fail "app_token_calls_the_protected_api: exit $st, API $(cat "$work/api.status"): $body $(tail -2 "$work/app.tty")"
fi

# --- app_token_with_certificate_and_key_on_the_command_line -----------------
st=$(run appcli --config "$work/nocert.conf" --app --certificate "$work/app.pem" \
    --key "$work/app.key" --scope "$API/.default")
call_api "$work/appcli.out" >/dev/null
if [ "$st" = 0 ] && [ "$(cat "$work/api.status")" = 200 ]; then
    no_token_leaked appcli "$work/appcli.out" && ok "app_token_with_certificate_and_key_on_the_command_line"
else
    fail "app_token_with_certificate_and_key_on_the_command_line: exit $st, API $(cat "$work/api.status")"
fi

# refused NAME WANT-EXIT WANT-TEXT ARGS...: refused with nothing on stdout.
refused() {
    name=$1 want=$2 text=$3
    shift 3
    st=$(run "$name" "$@")
    if [ "$st" != "$want" ]; then
        fail "$name: exit $st, expected $want: $(tr -d '\r' <"$work/$name.tty" | tail -2)"
    elif [ -s "$work/$name.out" ]; then
        fail "$name: something was printed on stdout"
    elif ! grep -a -q -- "$text" "$work/$name.tty"; then
        fail "$name: no '$text' in: $(tr -d '\r' <"$work/$name.tty" | tail -2)"
    elif grep -a -q -- "$JWT_RE" "$work/$name.tty"; then
        fail "$name: a token-like string reached the terminal"
    else
        ok "$name (exit $st)"
    fi
}

# --- key_readable_by_group_is_refused ----------------------------------------
before=$(emu_ctl GET /control/stats | jq .requests.client_credentials)
chmod 640 "$work/app.key"
refused key_readable_by_group_is_refused 4 "must not be readable by group or others" \
    --config "$work/pam_aad.conf" --app --scope "$API/.default"
chmod 600 "$work/app.key"
after=$(emu_ctl GET /control/stats | jq .requests.client_credentials)
[ "$before" = "$after" ] || fail "key_readable_by_group_is_refused: a request was sent"

# --- unknown_certificate_is_refused -------------------------------------------
refused unknown_certificate_is_refused 4 "AADSTS700027" --config "$work/pam_aad.conf" --app \
    --certificate "$work/other.pem" --key "$work/other.key" --scope "$API/.default"

# --- service_failure_is_unavailable -----------------------------------------
emu_ctl POST /control/fault '{"endpoint":"client_credentials","error":"temporarily_unavailable"}' \
    >/dev/null || fail "control/fault"
refused service_failure_is_unavailable 3 "AADSTS90033" --config "$work/pam_aad.conf" --app \
    --scope "$API/.default"

# --- refused_consent_is_refused ----------------------------------------------
emu_ctl POST /control/api '{"consent":false}' >/dev/null || fail "control/api"
refused refused_consent_is_refused 4 "AADSTS65001" --config "$work/pam_aad.conf" \
    --scope "$API/Data.Read"
emu_ctl POST /control/api '{"consent":true}' >/dev/null || fail "control/api"

# --- expired_code_is_refused --------------------------------------------------
emu_ctl POST /control/auto-approve '{"cancel":true}' >/dev/null || fail "auto-approve cancel"
(
    i=0
    while [ $i -lt 100 ]; do
        emu_ctl POST /control/expire '{}' >/dev/null 2>&1 && exit 0
        sleep 0.1
        i=$((i + 1))
    done
) &
expirer=$!
refused expired_code_is_refused 1 "code expired" --config "$work/pam_aad.conf" \
    --scope "$API/Data.Read"
wait "$expirer" || fail "expired_code_is_refused: no pending code to expire"

# --- api_refuses_a_graph_token_and_a_tampered_one ------------------------------
emu_ctl POST /control/auto-approve '{"delay_ms":200,"count":-1}' >/dev/null || fail "auto-approve"
st=$(run graph --config "$work/pam_aad.conf" --scope User.Read)
call_api "$work/graph.out" >/dev/null
graph_status=$(cat "$work/api.status")
# The signature's first character changes (its last one may carry only
# padding bits).
tok=$(cat "$work/app.out")
sig=${tok##*.}
case $sig in A*) new=B ;; *) new=A ;; esac
printf '%s.%s%s\n' "${tok%.*}" "$new" "${sig#?}" >"$work/tampered"
tok= sig=
call_api "$work/tampered" >/dev/null
tampered_status=$(cat "$work/api.status")
: >"$work/empty"
call_api "$work/empty" >/dev/null
if [ "$st" = 0 ] && [ "$graph_status" = 401 ] && [ "$tampered_status" = 401 ] &&
    [ "$(cat "$work/api.status")" = 401 ]; then
    no_token_leaked graph "$work/graph.out" && ok "api_refuses_a_graph_token_and_a_tampered_one"
else
    fail "api_refuses_a_graph_token_and_a_tampered_one: exit $st, graph $graph_status, tampered $tampered_status"
fi

# --- api_refuses_an_expired_token_and_one_without_the_role ----------------
emu_ctl POST /control/api '{"app_token_lifetime":1}' >/dev/null || fail "control/api"
st=$(run short --config "$work/pam_aad.conf" --app --scope "$API/.default")
emu_ctl POST /control/api '{"app_token_lifetime":0,"app_role":false}' >/dev/null || fail "control/api"
st2=$(run norole --config "$work/pam_aad.conf" --app --scope "$API/.default")
emu_ctl POST /control/api '{"app_role":true}' >/dev/null || fail "control/api"
sleep 2
call_api "$work/short.out" >/dev/null
short_status=$(cat "$work/api.status") short_body=$(cat "$work/api.body")
call_api "$work/norole.out" >/dev/null
if [ "$st" = 0 ] && [ "$st2" = 0 ] && [ "$short_status" = 401 ] &&
    echo "$short_body" | grep -q expired && [ "$(cat "$work/api.status")" = 403 ]; then
    ok "api_refuses_an_expired_token_and_one_without_the_role"
else
    fail "api_refuses_an_expired_token_and_one_without_the_role: exit $st/$st2, $short_status $short_body, $(cat "$work/api.status")"
fi

# --- bad_usage_is_exit_2 -----------------------------------------------------
usage_ok=1
for args in "--app --scope $API/Data.Read" "--app --scope $API/.default --scope User.Read" \
    "--json" "--scope $API/.default --certificate $work/app.pem" \
    "--app --certificate $work/app.pem --scope $API/.default"; do
    # shellcheck disable=SC2086
    "$AAD_LOGIN" token --config "$work/pam_aad.conf" $args </dev/null >"$work/usage.out" 2>&1
    st=$?
    [ "$st" = 2 ] || { fail "bad_usage_is_exit_2: '$args': exit $st"; usage_ok=0; }
done
[ "$usage_ok" = 1 ] && ok "bad_usage_is_exit_2"

# --- no_token_in_any_process_argv_or_environment -------------------------------
: >"$work/stop"
wait "$watcher"
watcher=
if ! grep -q -F "$CANARY_ARG" "$work/leaks" || ! grep -q -F "AAD_TOKEN_TEST_CANARY=$CANARY_ENV" "$work/leaks"; then
    fail "no_token_in_any_process_argv_or_environment: the sampler missed the canaries"
elif grep -v -F -e "$CANARY_ARG" -e "$CANARY_ENV" "$work/leaks" | grep -q .; then
    fail "no_token_in_any_process_argv_or_environment: $(grep -v -F -e "$CANARY_ARG" -e "$CANARY_ENV" "$work/leaks" | head -c 200)"
elif [ ! -e "$work/saw-aad-login" ]; then
    fail "no_token_in_any_process_argv_or_environment: the sampler never saw aad-login run ($(cat "$work/samples") samples)"
else
    ok "no_token_in_any_process_argv_or_environment ($(cat "$work/samples") samples of /proc)"
fi

[ "$rc" = 0 ] && echo "PASS: aad-login token prints tokens on stdout only"
exit "$rc"
