#!/bin/sh
# test_token_script_example.sh - the Python script of doc/admin-guide.md
# ("Calling an API from a script", section 14) does what the guide says,
# against the emulator, run the way its crontab line runs it:
#   example_is_in_the_guide (the script and a five-field crontab line);
#   example_counts_as_the_user_and_as_the_application (signed in once on a
#     terminal; then, as cron runs it - no terminal, a bare environment -
#     it prints the counts Graph gives, users/$count and
#     applications/$count with ConsistencyLevel: eventual, for both);
#   example_runs_without_a_device_code (the cron runs request no device
#     code, reuse the sign-in's token and keep one application token);
#   example_says_how_to_sign_in_when_there_is_none (after --sign-out).
# The user's settings come from their own ~/.config/pam_aad/token.conf (a
# home of the test's, through a private /etc/passwd), as the guide tells a
# user to write it; keyrings are private (tests/tools/private-keyrings.sh).
# Exit: 0 pass, 1 fail, 77 skipped (not root; no python3, jq or script).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
top_srcdir=$(cd "$top_srcdir" && pwd)
builddir=$(cd "$builddir" && pwd)
guide="$top_srcdir/doc/admin-guide.md"

for t in python3 jq script openssl; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
. "$top_srcdir/tests/tools/private-keyrings.sh"
reexec_in_private_keyrings "$0" "$@"

. "$top_srcdir/tests/emulator/emu.sh"
rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/token-script-example.XXXXXX")
cleanup() {
    emu_stop || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# --- example_is_in_the_guide ---------------------------------------------------
# The fenced block after each marker comment.
block() {
    awk -v m="<!-- example: $1 -->" '
        $0 == m { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$guide"
}
block count-directory.py >"$work/count-directory.py"
block crontab >"$work/crontab"
cron_line=$(grep -v '^#' "$work/crontab" | head -1)
set -f
# shellcheck disable=SC2086
set -- $cron_line
set +f
if [ -s "$work/count-directory.py" ] && python3 -m py_compile "$work/count-directory.py" &&
    [ $# -ge 6 ] && [ "$1" = "*/5" ] && echo "$cron_line" | grep -q 'count-directory.py'; then
    ok "example_is_in_the_guide ($(wc -l <"$work/count-directory.py") lines; cron: $1 $2 $3 $4 $5)"
else
    fail "example_is_in_the_guide: script $(wc -c <"$work/count-directory.py") bytes, crontab '$cron_line'"
    exit 1
fi

# --- the user's setup, as the guide tells it -----------------------------------
emu_start --lifetime 120 --interval 1 || exit 99
chmod 755 "$EMU_DIR"
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":-1}' >/dev/null || exit 99
emu_ctl POST /control/graph/settings '{"users_count":4711,"applications_count":42}' >/dev/null
home="$work/home"
mkdir -p "$home/bin" "$home/.config/pam_aad"
cp "$work/count-directory.py" "$home/bin/count-directory.py"
chmod 755 "$home/bin/count-directory.py"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$home/.config/pam_aad/app.key" \
    -out "$home/.config/pam_aad/app.pem" -days 2 -subj /CN=count-directory 2>/dev/null || exit 99
umask 022
jq -n --rawfile pem "$home/.config/pam_aad/app.pem" '{pem: $pem}' >"$work/cert.json"
emu_ctl POST /control/client-cert "$(cat "$work/cert.json")" >/dev/null || exit 99
cat >"$home/.config/pam_aad/token.conf" <<EOF
tenant = $TENANT_ID
client_id = $CLIENT_ID
authority = $AUTHORITY
ca_file = $CA_FILE
qr = no
timeout = 30
client_certificate = $home/.config/pam_aad/app.pem
client_key = $home/.config/pam_aad/app.key
EOF
# root's home is the test's (getpwuid decides, not $HOME).
sed "s#^root:\([^:]*\):0:0:\([^:]*\):[^:]*:#root:\1:0:0:\2:$home:#" /etc/passwd >"$work/passwd"
mount --make-rprivate / 2>/dev/null
mount --bind "$work/passwd" /etc/passwd || exit 99
PATH="$builddir/tools:$PATH"
export PATH
# As the guide's crontab line runs it: cron's bare environment, no terminal.
as_cron() {
    cmd=$(echo "$cron_line" | cut -d' ' -f6- | sed 's/>>.*//')
    env -i HOME="$home" PATH="$builddir/tools:/usr/bin:/bin" SHELL=/bin/sh LOGNAME=root \
        SSL_CERT_FILE="$CA_FILE" GRAPH_URL="$GRAPH_URL" \
        setsid -w sh -c "$cmd" </dev/null >"$work/$1.out" 2>"$work/$1.err"
    echo $?
}

# Signed in once on a terminal, with the command the guide shows.
signin=$(sed -n 's/^aad-login token --sign-in /aad-login token --sign-in /p' "$guide" | grep 'User.ReadBasic.All' | head -1)
script -q -e -c "$signin </dev/null; echo \$? >'$work/signin.rc'" "$work/signin.tty" </dev/null >/dev/null 2>&1
emu_ctl POST /control/stats/reset >/dev/null

# --- example_counts_as_the_user_and_as_the_application ----------------------------
st1=$(as_cron run1)
st2=$(as_cron run2)
want="as the user: 4711 users, 42 app registrations
as the application: 4711 users, 42 app registrations"
if [ "$(cat "$work/signin.rc" 2>/dev/null)" = 0 ] && [ "$st1" = 0 ] && [ "$st2" = 0 ] &&
    [ "$(cat "$work/run1.out")" = "$want" ] && [ "$(cat "$work/run2.out")" = "$want" ]; then
    ok "example_counts_as_the_user_and_as_the_application"
else
    fail "example_counts_as_the_user_and_as_the_application: sign-in $(cat "$work/signin.rc" 2>/dev/null), exits $st1/$st2: $(cat "$work/run1.out" "$work/run1.err") $(tr -d '\r' <"$work/signin.tty" | tail -3)"
fi

# --- example_runs_without_a_device_code -----------------------------------------------
counts=$(emu_ctl GET /control/stats | jq -r '"\(.requests.devicecode) \(.grants.refresh_token.requests) \(.grants.client_credentials.requests)"')
if [ "$counts" = "0 0 1" ]; then
    ok "example_runs_without_a_device_code (two cron runs: the sign-in's token reused, one application token kept)"
else
    fail "example_runs_without_a_device_code: devicecode/refresh/client_credentials = $counts"
fi

# --- example_says_how_to_sign_in_when_there_is_none ---------------------------------------
env -i HOME="$home" PATH="$builddir/tools:/usr/bin:/bin" aad-login token --sign-out 2>/dev/null
st=$(as_cron run3)
if [ "$st" != 0 ] && grep -q "aad-login token --sign-in" "$work/run3.err" && [ ! -s "$work/run3.out" ]; then
    ok "example_says_how_to_sign_in_when_there_is_none: $(tail -1 "$work/run3.err")"
else
    fail "example_says_how_to_sign_in_when_there_is_none: exit $st: $(cat "$work/run3.out" "$work/run3.err")"
fi

[ "$rc" = 0 ] && echo "PASS: the guide's Python script counts through Graph as the user and as the application"
exit "$rc"
