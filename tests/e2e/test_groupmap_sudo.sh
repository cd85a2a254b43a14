#!/bin/sh
# The sudo that revokes must not grant. A session that holds the local
# group aadadmins (which sudoers grants ALL) runs real sudo with the doc/
# stack; pam_aad runs the device flow and learns that Entra ID no longer
# lists the user in the mapped group. The membership is taken out of
# /etc/group and /etc/gshadow, and sudo is refused with "Your access to this
# host changed; log in again." - sudo decides from the process's groups,
# which still hold aadadmins, so a success here would give root to a
# revoked user (503675d did). While still a member, the same sudo succeeds.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/groupmap-lib.sh"
e2e_require sudo setpriv curl /usr/sbin/grpck
e2e_setup
e2e_doc_service sudo
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" \
    "http_timeout = 5" "timeout = 120" "group_map = $T/group_map"
groupmap_setup_etc
# aaduser is in aadadmins, and sudo asks (no NOPASSWD).
sed -i "s/^aadadmins:x:4300:\$/aadadmins:x:4300:$E2E_USER/" "$T/etc/group"
sed -i "s/^aadadmins:!::\$/aadadmins:!::$E2E_USER/" "$T/etc/gshadow"
printf 'Defaults !lecture, passwd_tries=1\n%%aadadmins ALL=(ALL) ALL\n' >"$T/etc/sudoers"

cat >"$T/sudo.exp" <<'EXP'
set timeout 60
lassign $argv groups home
# The session as login made it: the user's groups, aadadmins among them.
spawn setpriv --reuid=4242 --regid=4242 --groups=4242,4300 env HOME=$home \
    sh -c {sudo -k id -u; echo SUDO-RC=$?}
expect {
    -re {Code: ([A-Z0-9-]+)\s+Press Enter once you have signed in} { set code $expect_out(1,string) }
    timeout { puts "NO-CODE"; exit 2 }
}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$::env(E2E_UPN)\",\"groups\":$groups}}' >/dev/null"
send "\r"
expect {
    -re {SUDO-RC=([0-9]+)} { puts "RC=$expect_out(1,string)" }
    timeout { puts "NO-RESULT"; exit 3 }
}
EXP

cat >"$T/scenario.sh" <<SH
set -eu
rc=0
out=\$(expect "$T/sudo.exp" '["$ADMINS_GROUP_ID"]' "$T/home" 2>&1) || true
if printf '%s\n' "\$out" | grep -q 'RC=0' && printf '%s\n' "\$out" | grep -qx '0.\{0,1\}'; then
    echo "ok: still a member: sudo id -u gives 0"
else
    echo "FAIL: still a member, sudo did not succeed:"; printf '%s\n' "\$out"; rc=1
fi
# Twice: the sudo that takes the membership away, and a later one from the
# same session, whose process still holds the group.
for attempt in "removed from the Entra group" "again, from the same session"; do
    out=\$(expect "$T/sudo.exp" '[]' "$T/home" 2>&1) || true
    if printf '%s\n' "\$out" | grep -q 'RC=1' &&
       printf '%s\n' "\$out" | grep -q 'Your access to this host changed; log in again.'; then
        echo "ok: \$attempt: \$(printf '%s\n' "\$out" | grep 'Your access' | tr -d '\r')"
    else
        echo "FAIL: \$attempt, sudo was not refused as it should be:"
        printf '%s\n' "\$out"; rc=1
    fi
done
if grep -q "^aadadmins:.*$E2E_USER" /etc/group /etc/gshadow; then
    echo "FAIL: the membership is still in the files"; rc=1
else
    echo "ok: aadadmins no longer lists $E2E_USER in /etc/group and /etc/gshadow"
fi
/usr/sbin/grpck -r /etc/group /etc/gshadow || { echo "FAIL: grpck -r"; rc=1; }
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir E2E_UPN
groupmap_in_namespace "$T/scenario.sh"
echo "PASS: a sudo whose sign-in revokes the mapped group is refused, and the membership is gone"
