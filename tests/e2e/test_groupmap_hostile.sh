#!/bin/sh
# group_map, hostile and broken set-ups, through the real module
# (pamtester) in a private namespace. Each is refused or ignored with a
# log line, and /etc/group and /etc/gshadow stay exactly as they were:
#  - a line naming a local group that does not exist (never created);
#  - a line naming a gid 0 group without allow_root;
#  - a group_map file writable by others (the login is refused);
#  - a local group name in another case ("AADADMINS" is not "aadadmins");
#  - a display name instead of an object ID (also when the token carries
#    that display name as a "group").
# A refused login (another identity, in the mapped Entra group) changes
# nothing. And the two ways a write can fail (/etc read-only): an addition is
# logged and the login proceeds; a removal refuses the login.
# A group object ID in another case is the same group (GUIDs compare
# without regard to case): that one does change the file, as it should.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/groupmap-lib.sh"
e2e_require pamtester stdbuf curl
CAPTURE_SO=$(cd "$builddir" && pwd)/tests/pam/.libs/syslog_capture.so
[ -f "$CAPTURE_SO" ] || { echo "FAIL: $CAPTURE_SO not built"; exit 1; }
# In a sanitizer build the capture shim needs its runtimes loaded first
# (pamtester itself is not instrumented: its leaks are not ours).
PRELOAD=$(ldd "$CAPTURE_SO" | sed -n 's/.*lib\(a\|ub\)san[^ ]* => \([^ ]*\).*/\2/p' | tr '\n' ' ')
PRELOAD="$PRELOAD$CAPTURE_SO"
e2e_setup
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 10" "timeout = 60" \
    "wait_for_enter = no" "qr = no"
groupmap_setup_etc
echo "rootish:x:0:" >>"$T/etc/group"   # a second gid 0 group, as some hosts have
echo "rootish:!::" >>"$T/etc/gshadow"
cp "$T/etc/group" "$T/group.before"; cp "$T/etc/gshadow" "$T/gshadow.before"
HOLD_LOCK=$(cd "$builddir" && pwd)/tests/e2e/hold_pwd_lock
: >"$T/extra_args"   # more module arguments for the next attempt
UPPER_ID=$(printf '%s' "$ADMINS_GROUP_ID" | tr a-f A-F)

cat >"$T/scenario.sh" <<SH
set -eu
. "$top_srcdir/tests/emulator/emu.sh"
rc=0
# attempt NAME MAP-LINE MAP-MODE TOKEN-GROUPS-JSON WANT-RC WANT-LOG WANT-CHANGE [UPN]
attempt() {
    upn=\${8:-$E2E_UPN}
    printf '%s\n' "\$2" >"$T/map.case"; chmod "\$3" "$T/map.case"
    args="helper=$PAM_AAD_HELPER group_writer=$PAM_AAD_WRITER config=$T/pam_aad.conf group_map=$T/map.case debug\$(cat "$T/extra_args")"
    printf 'auth required %s %s\naccount required pam_permit.so\nsession required %s %s\n' \
        "$PAM_AAD_SO" "\$args" "$PAM_AAD_SO" "\$args" >/etc/pam.d/aadload
    : >"$T/syslog"; : >"$T/out"
    SYSLOG_CAPTURE_FILE="$T/syslog" LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
        stdbuf -o0 pamtester aadload $E2E_USER authenticate open_session >"$T/out" 2>&1 </dev/null &
    pid=\$!
    code=""
    for n in \$(seq 100); do
        code=\$(sed -n 's/.*Code: \([A-Z0-9-]*\).*/\1/p' "$T/out" | head -n 1)
        [ -n "\$code" ] && break
        sleep 0.1
    done
    [ -n "\$code" ] && emu_ctl POST /control/approve "{\"user_code\":\"\$code\",\"claims\":{\"preferred_username\":\"\$upn\",\"groups\":\$4}}" >/dev/null
    got=0; wait \$pid || got=1
    changed=0
    cmp -s /etc/group "$T/group.before" && cmp -s /etc/gshadow "$T/gshadow.before" || changed=1
    if [ \$got != \$5 ] || [ \$changed != \$7 ] || ! grep -qF -- "\$6" "$T/syslog"; then
        echo "FAIL: \$1 (login failed: \$got, files changed: \$changed)"; cat "$T/out" "$T/syslog"; rc=1
    else
        echo "ok: \$1: \$(grep -F -- "\$6" "$T/syslog" | head -n 1)"
    fi
    if [ \$changed = 1 ]; then
        cp "$T/group.before" /etc/group.restore && mv /etc/group.restore /etc/group
        cp -p "$T/gshadow.before" /etc/gshadow.restore && mv /etc/gshadow.restore /etc/gshadow
    fi
}
G='["$ADMINS_GROUP_ID"]'
attempt "refused login (signed in as another account)" "$ADMINS_GROUP_ID aadadmins" 644 "\$G" 1 \
    "signed in as mallory@$DOMAIN, which is account mallory, not $E2E_USER" 0 "mallory@$DOMAIN"
attempt "group that does not exist" "$ADMINS_GROUP_ID nosuchgroup" 644 "\$G" 0 \
    "local group nosuchgroup left alone for $E2E_USER (Entra group $ADMINS_GROUP_ID): no such local group" 0
grep -q '^nosuchgroup:' /etc/group && { echo "FAIL: a group was created"; rc=1; }
attempt "gid 0 group without allow_root" "$ADMINS_GROUP_ID rootish" 644 "\$G" 0 \
    "local group rootish left alone for $E2E_USER (Entra group $ADMINS_GROUP_ID): group has gid 0 and allow_root is off" 0
attempt "group_map writable by others" "$ADMINS_GROUP_ID aadadmins" 666 "\$G" 1 \
    "writable by group or others" 0
attempt "local group name in another case" "$ADMINS_GROUP_ID AADADMINS" 644 "\$G" 0 \
    "'AADADMINS' is not a valid local group name: line ignored" 0
attempt "display name instead of an object ID" "Linux-Admins aadadmins" 644 '["Linux-Admins"]' 0 \
    "'Linux-Admins' is not an Entra group object ID (display names are refused): line ignored" 0
attempt "object ID in upper case is the same group" "$UPPER_ID aadadmins" 644 "\$G" 0 \
    "group_map: added $E2E_USER to local group aadadmins (Entra group $ADMINS_GROUP_ID)" 1
# Verified and in the mapped group, but a later module refuses the login
# (an expired account, pam_access, pam_nologin): no grant, and no writer.
printf 'auth required %s helper=%s group_writer=%s config=%s group_map=%s\naccount required pam_deny.so\nsession required %s helper=%s group_writer=%s config=%s group_map=%s\n' \
    "$PAM_AAD_SO" "$PAM_AAD_HELPER" "$PAM_AAD_WRITER" "$T/pam_aad.conf" "$T/map.case" \
    "$PAM_AAD_SO" "$PAM_AAD_HELPER" "$PAM_AAD_WRITER" "$T/pam_aad.conf" "$T/map.case" >/etc/pam.d/aadload
printf '%s aadadmins\n' "$ADMINS_GROUP_ID" >"$T/map.case"
: >"$T/out"
stdbuf -o0 pamtester aadload $E2E_USER authenticate acct_mgmt open_session >"$T/out" 2>&1 </dev/null &
pid=\$!
code=""
for n in \$(seq 100); do
    code=\$(sed -n 's/.*Code: \([A-Z0-9-]*\).*/\1/p' "$T/out" | head -n 1)
    [ -n "\$code" ] && break
    sleep 0.1
done
emu_ctl POST /control/approve "{\"user_code\":\"\$code\",\"claims\":{\"preferred_username\":\"$E2E_UPN\",\"groups\":[\"$ADMINS_GROUP_ID\"]}}" >/dev/null
wait \$pid && { echo "FAIL: the login passed pam_deny"; rc=1; }
if cmp -s /etc/group "$T/group.before" && cmp -s /etc/gshadow "$T/gshadow.before"; then
    echo "ok: verified and in the group, refused by a later module (pam_deny in account): no grant"
else
    echo "FAIL: a login the stack refused got its groups"; rc=1
fi
# The lock held by another program (vipw, useradd) for longer than the
# module's patience with a silent helper (http_timeout 2 + 2 s): the
# helper keeps the module informed and the addition is made once the lock
# is free.
"$HOLD_LOCK" /etc/.pwd.lock 6000 >"$T/lock.out" &
for n in \$(seq 50); do grep -q locked "$T/lock.out" && break; sleep 0.1; done
printf ' http_timeout=2' >"$T/extra_args"
attempt "lock held for 6 s by another program: the login waits for it" "$ADMINS_GROUP_ID aadadmins" 644 "\$G" 0 \
    "group_map: added $E2E_USER to local group aadadmins (Entra group $ADMINS_GROUP_ID)" 1
: >"$T/extra_args"
wait
# A write that cannot happen: /etc read-only (pam.d stays writable for
# the test's service file, on a mount of its own).
mount --bind /etc/pam.d /etc/pam.d
mount -o remount,bind,ro /etc
attempt "addition that cannot be written: logged, login proceeds" "$ADMINS_GROUP_ID aadadmins" 644 "\$G" 0 \
    "could not add $E2E_USER to local group aadadmins (Entra group $ADMINS_GROUP_ID): the login goes on without it" 0
grep -qF "group_map: the group writer: /etc/.pwd.lock: Read-only file system" "$T/syslog" ||
    { echo "FAIL: the writer's reason is not in the log"; cat "$T/syslog"; rc=1; }
attempt "no removal due (not a member), read-only /etc: login proceeds" "$ADMINS_GROUP_ID aadadmins" 644 '[]' 0 \
    "stays out of local group aadadmins" 0
# Now a member whom Entra no longer lists: the right cannot be taken away.
mount -o remount,bind,rw /etc
sed -i 's/^aadadmins:x:4300:\$/aadadmins:x:4300:$E2E_USER/' /etc/group "$T/group.before"
sed -i 's/^aadadmins:!::\$/aadadmins:!::$E2E_USER/' /etc/gshadow "$T/gshadow.before"
mount -o remount,bind,ro /etc
attempt "removal that cannot be written: login refused" "$ADMINS_GROUP_ID aadadmins" 644 '[]' 1 \
    "could not make sure $E2E_USER is out of local group aadadmins (Entra group $ADMINS_GROUP_ID): login refused" 0
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL GRAPH_URL top_srcdir
groupmap_in_namespace "$T/scenario.sh" || exit 1
echo "PASS: hostile group_map set-ups refused or ignored with a log line, /etc/group untouched"
