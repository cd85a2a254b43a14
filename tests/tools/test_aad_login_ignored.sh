#!/bin/sh
# test_aad_login_ignored.sh - aad-login for an account pam_aad never maps:
# exit 6 with the reason ("ignored"), before any network traffic (the
# authority is unreachable, which would be exit 3), for root without
# allow_root and for a system account below min_uid that no user_map line
# names; a user_map line naming that account lets it through to the
# network (exit 3 here).
set -eu
: "${builddir:=.}"
tool="$builddir/tools/aad-login"
[ -x "$tool" ] || { echo "FAIL: $tool is not built"; exit 1; }
sys=$(getent passwd daemon | cut -d: -f1,3) || true
[ "${sys#daemon:}" = 1 ] || { echo "SKIP: no system account daemon (uid 1)"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/aad_login_ignored.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
umask 077
printf 'tenant = contoso.example\nclient_id = 6f0c2a8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\n' >"$T/conf"
printf 'authority = https://127.0.0.1:1\ndomains = contoso.example\nhttp_timeout = 2\n' >>"$T/conf"
printf 'cache_dir = %s/cache\nallow_root = no\n' "$T" >>"$T/conf"
printf 'daemon  ops.lead@contoso.example\n' >"$T/users"

rc=0
expect_exit() { # want user [args...]; stderr in $T/err
    want=$1; shift
    got=0
    "$tool" --config "$T/conf" "$@" </dev/null >/dev/null 2>"$T/err" || got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: aad-login $*: exit $got, expected $want:"; cat "$T/err"; rc=1
    fi
}
expect_exit 6 root
grep -q "aad-login: ignored: account root has uid 0 and allow_root is off" "$T/err" ||
    { echo "FAIL: no 'ignored' reason for root:"; cat "$T/err"; rc=1; }
expect_exit 6 daemon
grep -q "account daemon has uid 1, below min_uid [0-9]*, and no user_map line names it" "$T/err" ||
    { echo "FAIL: no min_uid reason for daemon:"; cat "$T/err"; rc=1; }
# Named in user_map: pam_aad does try (and finds the authority unreachable).
expect_exit 3 -o "user_map=$T/users" daemon
[ "$rc" = 0 ] && echo "PASS: aad-login exits 6 for root and for a system account, before any traffic"
exit "$rc"
