#!/bin/sh
# test_aad_login_groups.sh - aad-login USER with group_map prints the local
# group changes the same login through pam_aad.so would make (a dry run:
# the host's /etc/group and /etc/gshadow are read, never written).
# Exit: 0 pass, 1 fail, 99 hard error (no emulator).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
AAD_LOGIN="$builddir/tools/aad-login"
. "$top_srcdir/tests/emulator/emu.sh"

ADMINS=0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f
OPS=22222222-3333-4444-5555-666666666666
USER_NAME=nobody
emu_start --lifetime 60 --interval 0 --auto-approve-after 0.2 --quiet \
    --approve-claims "{\"preferred_username\":\"$USER_NAME@contoso.example\",\"groups\":[\"$ADMINS\"]}" ||
    exit 99
work=$(mktemp -d "${TMPDIR:-/tmp}/aad-login-groups.XXXXXX")
trap 'emu_stop || true; rm -rf "$work"' EXIT INT TERM
(umask 022
 printf '%s %s@%s\n' "$USER_NAME" "$USER_NAME" "$DOMAIN" >"$work/user_map"
 # users (gid 100) granted; root (gid 0) refused without allow_root; a
 # missing group never created; another group the user is not in.
 printf '%s users\n%s root\n%s nosuchgroup-pam-aad\n%s adm\n' "$ADMINS" "$ADMINS" "$ADMINS" "$OPS" \
     >"$work/group_map")
emu_write_config "$work/pam_aad.conf" "cache_dir = $work/cache" "qr = no" \
    "wait_for_enter = no" "timeout = 30" "user_map = $work/user_map" "group_map = $work/group_map"
before=$(cat /etc/group /etc/gshadow 2>/dev/null | md5sum)
"$AAD_LOGIN" --config "$work/pam_aad.conf" "$USER_NAME" </dev/null >"$work/out" 2>&1
st=$?
after=$(cat /etc/group /etc/gshadow 2>/dev/null | md5sum)
rc=0
check() { grep -qF -- "$1" "$work/out" || { echo "FAIL: no '$1' in the output"; rc=1; }; }
[ "$st" = 0 ] || { echo "FAIL: aad-login exit $st"; rc=1; }
check "local groups (group_map; dry run, aad-login changes nothing):"
if id -Gn "$USER_NAME" | tr ' ' '\n' | grep -qx users; then
    check "stays in users (Entra group $ADMINS)"
else
    check "would add to users (Entra group $ADMINS)"
fi
check "root left alone: group has gid 0 and allow_root is off"
check "nosuchgroup-pam-aad left alone: no such local group (groups are never created)"
check "stays out of adm (Entra group $OPS)"
[ "$before" = "$after" ] || { echo "FAIL: /etc/group or /etc/gshadow changed"; rc=1; }
cat "$work/out"
[ $rc = 0 ] && echo "PASS: aad-login prints group_map's changes as a dry run"
exit $rc
