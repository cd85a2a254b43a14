#!/bin/sh
# What a flood makes root spend. A local user with no Entra account starts
# 40 `su aaduser` and leaves each at the prompt; then 12 SSH clients that
# know the account name connect and never answer. Counted while they wait:
# the root helpers (at most max_logins_per_user for the local user, at most
# max_logins on the host), group writers (none: nothing was verified),
# pam_aad's files in /etc (none), and the device-code requests the tenant
# received (one per helper). The logins over the cap are told at once and
# fall back. (503675d: 40 helpers, 40 writers, 80 files in /etc, 40
# device codes for the su flood alone.)
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require su setpriv /usr/sbin/sshd ssh ssh-keygen curl
e2e_setup
FLOODER=flooder
FLOODER_UID=4343
MAX_LOGINS=8
PER_USER=4
SU_FLOOD=40
SSH_FLOOD=12
echo "$FLOODER:x:$FLOODER_UID:$FLOODER_UID:local user:/nonexistent:/bin/sh" >>"$T/passwd"
echo "$FLOODER:x:$FLOODER_UID:" >>"$T/group"
echo "$FLOODER:*:19000:0:99999:7:::" >>"$T/shadow"
printf '0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f sudo\n' >"$T/group_map"
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" \
    "http_timeout = 5" "timeout = 120" "group_map = $T/group_map" \
    "max_logins = $MAX_LOGINS" "max_logins_per_user = $PER_USER"
e2e_doc_service sshd
# su: the sshd line, in front of Debian's stock su stack.
{ grep -v '^#' "$top_srcdir/doc/pam.d/sshd" | grep . |
      sed -e "s|pam_aad.so|$PAM_AAD_SO helper=$PAM_AAD_HELPER group_writer=$PAM_AAD_WRITER config=$T/pam_aad.conf|"
  cat /etc/pam.d/su; } >"$T/pam.d/su"
e2e_sshd_config "$T"

cat >"$T/scenario.sh" <<SH
set -eu
. "$top_srcdir/tests/emulator/emu.sh"
. "$T/sshd_start.sh"
rc=0
emu_ctl POST /control/stats/reset >/dev/null
device_codes() { emu_ctl GET /control/stats | sed -n 's/.*"devicecode": *\([0-9]*\).*/\1/p'; }
# processes of program \${PROGRAM:-pam_aad_helper} that descend from
# process \$1 (this scenario's shell: our su processes; or our sshd: its
# connection's monitor, the PAM child, then the helper), at most 6 levels
# up; other tests (and other checkouts) may run helpers of their own
# meanwhile, under the same uids.
helpers_of() {
    n=0
    for p in \$(pgrep -f "^\${PROGRAM:-pam_aad_helper}\$" || true); do
        a=\$(ps -o ppid= -p "\$p" | tr -d ' ')
        for up in 1 2 3 4 5 6; do
            [ -n "\$a" ] || break
            [ "\$a" = "\$1" ] && { n=\$((n + 1)); break; }
            a=\$(ps -o ppid= -p "\$a" | tr -d ' ')
        done
    done
    echo \$n
}
settle() { # wait until the count of helpers of \$1 stays the same for 2 s
    last=-1
    for i in \$(seq 30); do
        now=\$(helpers_of "\$1")
        [ "\$now" = "\$last" ] && break
        last=\$now; sleep 2
    done
    echo "\$now"
}
for i in \$(seq $SU_FLOOD); do
    setpriv --reuid=$FLOODER_UID --regid=$FLOODER_UID --clear-groups \
        sh -c "sleep 100 | su $E2E_USER" >"$T/su.\$i" 2>&1 &
done
su_helpers=\$(settle \$\$)
echo "su flood: \$su_helpers helpers of $SU_FLOOD su (max_logins_per_user = $PER_USER), \$(device_codes) device codes"
[ "\$su_helpers" -le $PER_USER ] && [ "\$su_helpers" -ge 1 ] || { echo "FAIL: \$su_helpers su helpers"; rc=1; }
# One more, with an answer to the password prompt the stack falls back to:
# it is turned away at once with the reason, and su ends.
echo | setpriv --reuid=$FLOODER_UID --regid=$FLOODER_UID --clear-groups \
    timeout 20 su $E2E_USER >"$T/su.extra" 2>&1 || true
if grep -q 'Too many sign-ins are under way on this host' "$T/su.extra"; then
    echo "ok: one more su is told: \$(grep 'Too many' "$T/su.extra")"
else
    echo "FAIL: one more su was not turned away:"; cat "$T/su.extra"; rc=1
fi

sshd_pid=\$(cat "$T/sshd.pid")
for i in \$(seq $SSH_FLOOD); do
    sleep 100 | ssh -tt -p $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o PreferredAuthentications=keyboard-interactive $E2E_USER@127.0.0.1 >"$T/ssh.\$i" 2>&1 &
done
ssh_helpers=\$(settle "\$sshd_pid")
su_helpers=\$(helpers_of \$\$)
codes=\$(device_codes)
echo "ssh flood: \$ssh_helpers helpers for $SSH_FLOOD clients, \$su_helpers for su (max_logins = $MAX_LOGINS), \$codes device codes in all"
[ \$((ssh_helpers + su_helpers)) -le $MAX_LOGINS ] || { echo "FAIL: more than $MAX_LOGINS helpers"; rc=1; }
[ "\$codes" -le $MAX_LOGINS ] || { echo "FAIL: \$codes device-code requests"; rc=1; }
writers=\$((\$(PROGRAM=pam_aad_group_writer helpers_of \$\$) + \$(PROGRAM=pam_aad_group_writer helpers_of "\$sshd_pid")))
files=\$(ls -a /etc | grep -c '\.pam_aad\.' || true)
echo "group writers: \$writers, pam_aad files in /etc: \$files"
[ "\$writers" = 0 ] && [ "\$files" = 0 ] || { echo "FAIL: writers or files in /etc"; rc=1; }
pkill -f "sleep 100" || true
kill "\$sshd_pid" 2>/dev/null || true
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
e2e_in_namespace "$T/scenario.sh"
echo "PASS: a flood of su and of unauthenticated SSH connections is held to max_logins_per_user and max_logins helpers, with no writer and no file in /etc"
