#!/bin/sh
# What the built, running pam_aad_helper can still do, tried the way an
# attacker who took it over would: a login is started and left at the code
# screen (the helper is then confined and waiting), gdb attaches to the
# helper and makes it call chmod 04755 on a root-owned shell, chown and
# truncate a root-owned file, kill another root process, open a packet and a
# netlink socket, connect to a TCP port other than the authority's, open a
# file for writing and execute a program. Every call must fail, and nothing
# may change; the helper must run as the helper account (_pam_aad here)
# with no capability left, not even in its bounding set.
# (tests/helper/test_confine covers the same rules in a forked child; this
# is the helper as built and executed by the module.)
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require pamtester gdb curl
if ldd "$PAM_AAD_HELPER" 2>/dev/null | grep -q 'libasan'; then
    e2e_skip "a sanitizer build of the helper (the plain build and valgrind cover it)"
fi
e2e_setup
HELPER_UID=987
echo "_pam_aad:x:$HELPER_UID:$HELPER_UID:pam_aad helper:/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
echo "_pam_aad:x:$HELPER_UID:" >>"$T/group"
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" \
    "http_timeout = 5" "timeout = 60" "wait_for_enter = no" "qr = no"
printf 'auth required %s helper=%s group_writer=%s config=%s\n' \
    "$PAM_AAD_SO" "$PAM_AAD_HELPER" "$PAM_AAD_WRITER" "$T/pam_aad.conf" >"$T/pam.d/aadpowers"
# The victims: root's files and a root process.
cp /bin/sh "$T/victim-shell"; chmod 0755 "$T/victim-shell"
printf 'keep me\n' >"$T/victim"; chmod 0644 "$T/victim"
UNUSED_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000))

cat >"$T/scenario.sh" <<SH
set -eu
rc=0
sleep 120 & victim_pid=\$!
stdbuf -o0 pamtester aadpowers $E2E_USER authenticate >"$T/out" 2>&1 </dev/null &
login_pid=\$!
helper=""
for n in \$(seq 100); do
    # The module's child is the helper's reaper (aad_spawn.h), which runs
    # the helper.
    if grep -q 'Code:' "$T/out" 2>/dev/null; then
        for reaper in \$(pgrep -P "\$login_pid"); do
            helper=\$(pgrep -P "\$reaper" -f "^pam_aad_helper\$" | head -n 1) && [ -n "\$helper" ] && break
        done
        [ -n "\$helper" ] && break
    fi
    sleep 0.1
done
[ -n "\$helper" ] || { echo "FAIL: no helper at the code screen"; cat "$T/out"; exit 1; }
# The reaper, a copy of the caller that waits for the helper, holds
# nothing of the caller's: no descriptor at all.
reaper=\$(awk '{ print \$4 }' /proc/\$helper/stat)
if [ -n "\$(ls /proc/\$reaper/fd)" ]; then
    echo "FAIL: the helper's reaper holds descriptors:"; ls -l /proc/\$reaper/fd; rc=1
else
    echo "ok: the helper's reaper (\$reaper) holds no descriptor"
fi
echo "helper \$helper: \$(grep -E '^(Uid|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/\$helper/status | tr '\t\n' ' ')"
grep -q "^Uid:[[:space:]]*$HELPER_UID[[:space:]]" /proc/\$helper/status ||
    { echo "FAIL: the helper does not run as _pam_aad"; rc=1; }
for cap in CapEff CapPrm CapBnd CapAmb; do
    grep -q "^\$cap:[[:space:]]*0000000000000000" /proc/\$helper/status ||
        { echo "FAIL: the helper keeps \$cap"; rc=1; }
done
cat >"$T/gdb.cmds" <<GDB
set pagination off
set confirm off
printf "chmod %d\\\\n", (int)chmod("$T/victim-shell", 04755)
printf "chown %d\\\\n", (int)chown("$T/victim", 1234, 1234)
printf "truncate %d\\\\n", (int)truncate("$T/victim", 0)
printf "kill %d\\\\n", (int)kill(\$victim_pid, 15)
printf "packet %d\\\\n", (int)socket(17, 3, 0)
printf "netlink %d\\\\n", (int)socket(16, 3, 0)
set \\\$fd = (int)socket(2, 1, 0)
set \\\$sa = (unsigned char *)malloc(16)
call (void *)memset(\\\$sa, 0, 16)
set {unsigned short}\\\$sa = 2
set {unsigned char}(\\\$sa + 2) = $((UNUSED_PORT / 256))
set {unsigned char}(\\\$sa + 3) = $((UNUSED_PORT % 256))
set {unsigned int}(\\\$sa + 4) = 0x0100007f
# (connect's second parameter is a transparent union gdb does not pass right)
set \\\$rc = ((int (*)(int, void *, unsigned int))connect)(\\\$fd, \\\$sa, 16)
printf "connect %d errno %d\\\\n", \\\$rc, *(int *)__errno_location()
printf "openwrite %d\\\\n", (int)open("$T/victim", 1)
printf "exec %d\\\\n", (int)execve("/bin/true", 0, 0)
detach
quit
GDB
timeout 60 gdb -q -batch -nx -p "\$helper" -x "$T/gdb.cmds" >"$T/gdb.out" 2>&1 || true
kill "\$login_pid" 2>/dev/null || true
wait "\$login_pid" 2>/dev/null || true
for call in chmod chown truncate kill packet netlink openwrite exec; do
    got=\$(sed -n "s/^\$call \\(-\\{0,1\\}[0-9]*\\).*/\\1/p" "$T/gdb.out")
    if [ "\$got" = -1 ]; then
        echo "ok: \$call refused"
    else
        echo "FAIL: \$call returned [\$got]"; rc=1
    fi
done
# connect: ECONNREFUSED (111) would mean the port was reachable; EACCES (13)
# is Landlock's refusal, EPERM (1) a kernel without network rules.
conn=\$(sed -n 's/^connect \\(-\\{0,1\\}[0-9]*\\) errno \\([0-9]*\\).*/\\1 \\2/p' "$T/gdb.out")
case "\$conn" in
    "-1 13"|"-1 1") echo "ok: TCP connect to port $UNUSED_PORT refused (\$conn)" ;;
    *) echo "FAIL: TCP connect to port $UNUSED_PORT: [\$conn]"; rc=1 ;;
esac
kill -0 "\$victim_pid" 2>/dev/null || { echo "FAIL: the root process was killed"; rc=1; }
kill "\$victim_pid" 2>/dev/null || true
[ "\$(stat -c %a:%u "$T/victim-shell")" = 755:0 ] || { echo "FAIL: the shell changed: \$(stat -c %a:%u "$T/victim-shell")"; rc=1; }
[ "\$(stat -c %u:%s "$T/victim")" = 0:8 ] || { echo "FAIL: the file changed: \$(stat -c %u:%s "$T/victim")"; rc=1; }
[ \$rc = 0 ] || { echo "--- gdb"; cat "$T/gdb.out"; }
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
e2e_in_namespace "$T/scenario.sh"
echo "PASS: the running helper is _pam_aad with no capabilities and cannot chmod, chown, truncate, kill, open raw or netlink sockets, connect elsewhere, write or execute"
