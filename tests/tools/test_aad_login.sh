#!/bin/sh
# test_aad_login.sh - the built tools/aad-login against the emulator, as an
# administrator runs it:
#   too_many_flags_is_a_usage_error: 40 -d (or -o) options are refused with
#     exit 2, never an overflow of the option table (SIGSEGV);
#   claims_are_printed_without_control_characters: a display name carrying
#     terminal escape sequences reaches the terminal with them replaced.
# Exit: 0 pass, 1 fail, 99 hard error (no emulator).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
AAD_LOGIN="$builddir/tools/aad-login"
. "$top_srcdir/tests/emulator/emu.sh"

rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

# A local account every Debian system has, mapped by an explicit user_map line.
USER_NAME=nobody
NAME_JSON='\u001b]0;PWNED\u0007\u001b[2K\rEVIL'
emu_start --lifetime 120 --interval 0 --auto-approve-after 0.2 --quiet \
    --approve-claims "{\"preferred_username\":\"$USER_NAME@contoso.example\",\"name\":\"$NAME_JSON\"}" ||
    exit 99
work=$(mktemp -d "${TMPDIR:-/tmp}/aad-login-test.XXXXXX")
trap 'emu_stop || true; rm -rf "$work"' EXIT INT TERM
(umask 022 && printf '%s %s@%s\n' "$USER_NAME" "$USER_NAME" "$DOMAIN" >"$work/user_map")
emu_write_config "$work/pam_aad.conf" "cache_dir = $work/cache" "qr = no" \
    "wait_for_enter = no" "timeout = 30" "user_map = $work/user_map"

# --- too_many_flags_is_a_usage_error ------------------------------------------
for flag in -d "-o qr=no"; do
    args=
    i=0
    while [ $i -lt 40 ]; do args="$args $flag"; i=$((i + 1)); done
    # shellcheck disable=SC2086
    "$AAD_LOGIN" --check --config "$work/pam_aad.conf" $args >"$work/flags.out" 2>&1
    st=$?
    if [ "$st" = 2 ] && grep -q 'too many -o or -d options' "$work/flags.out"; then
        ok "too_many_flags_is_a_usage_error ($flag x40: exit 2)"
    else
        fail "too_many_flags_is_a_usage_error ($flag x40): exit $st, expected 2: $(head -c 300 "$work/flags.out")"
    fi
done
# The bound itself still works: 32 -d is fine.
args=
i=0
while [ $i -lt 31 ]; do args="$args -d"; i=$((i + 1)); done
# (The 32nd names the built helper, which --check checks as the module would.)
# shellcheck disable=SC2086
"$AAD_LOGIN" --check --config "$work/pam_aad.conf" $args -o "helper=$(cd "$builddir" && pwd)/helper/pam_aad_helper" >"$work/flags.out" 2>&1 ||
    fail "31 -d options with --config: exit $?: $(tail -3 "$work/flags.out")"

# --- claims_are_printed_without_control_characters ----------------------------
"$AAD_LOGIN" --config "$work/pam_aad.conf" "$USER_NAME" </dev/null >"$work/login.out" 2>"$work/login.err"
st=$?
esc=$(printf '\033')
bel=$(printf '\007')
cr=$(printf '\r')
if [ "$st" != 0 ]; then
    fail "claims_are_printed_without_control_characters: the login failed (exit $st): $(cat "$work/login.err")"
elif grep -q "display name:" "$work/login.out" &&
    ! grep -q "[$esc$bel$cr]" "$work/login.out" &&
    grep -q 'display name: *?\]0;PWNED??\[2K?EVIL$' "$work/login.out"; then
    ok "claims_are_printed_without_control_characters"
else
    fail "claims_are_printed_without_control_characters: $(grep -a "display name" "$work/login.out" | od -c | head -8)"
fi

[ "$rc" = 0 ] && echo "PASS: aad-login bounds its options and prints claims safely"
exit "$rc"
