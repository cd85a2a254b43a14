#!/bin/sh
# group_map under load: 50 different users log in at the same time through
# the real PAM module (pamtester), each login adding its account to the
# local group aadadmins and taking it out of aadops (where all 50 were).
# No update may be lost, grpck -r must stay clean, and both files must be
# byte-identical to before apart from those two member lists.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/groupmap-lib.sh"
e2e_require pamtester stdbuf curl /usr/sbin/grpck
N=50
OPS_GROUP_ID=22222222-3333-4444-5555-666666666666
e2e_setup
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 30" "timeout = 180" \
    "group_map = $T/group_map" "wait_for_enter = no" "qr = no"
ops_members=""
for i in $(seq -w 0 $((N - 1))); do
    echo "user$i:x:$(expr 5000 + "$i"):100:load user:/nonexistent:/bin/sh" >>"$T/passwd"
    echo "user$i:*:19000:0:99999:7:::" >>"$T/shadow"
    ops_members="$ops_members${ops_members:+,}user$i"
done
groupmap_setup_etc
echo "aadops:x:4301:$ops_members" >>"$T/etc/group"
echo "aadops:!::$ops_members" >>"$T/etc/gshadow"
printf '%s aadops\n' "$OPS_GROUP_ID" >>"$T/group_map"
# Grants are made once the stack has accepted the login: here when the
# session opens.
cat >"$T/etc/pam.d/aadload" <<PAM
auth required $PAM_AAD_SO helper=$PAM_AAD_HELPER group_writer=$PAM_AAD_WRITER config=$T/pam_aad.conf
account required pam_permit.so
session required $PAM_AAD_SO helper=$PAM_AAD_HELPER group_writer=$PAM_AAD_WRITER config=$T/pam_aad.conf
PAM
cp "$T/etc/group" "$T/group.before"; cp "$T/etc/gshadow" "$T/gshadow.before"

cat >"$T/scenario.sh" <<SH
set -eu
. "$top_srcdir/tests/emulator/emu.sh"
/usr/sbin/grpck -r /etc/group /etc/gshadow
for i in \$(seq -w 0 $((N - 1))); do
    stdbuf -o0 -e0 pamtester aadload user\$i authenticate open_session >"$T/out.\$i" 2>&1 </dev/null &
    echo \$! >"$T/pid.\$i"
done
# The simulated users sign in, each with their own identity, as their
# codes appear.
approved=0 deadline=\$((\$(date +%s) + 150))
while [ \$approved -lt $N ] && [ \$(date +%s) -lt \$deadline ]; do
    for i in \$(seq -w 0 $((N - 1))); do
        [ -e "$T/approved.\$i" ] && continue
        code=\$(sed -n 's/.*Code: \([A-Z0-9-]*\).*/\1/p' "$T/out.\$i" | head -n 1)
        [ -n "\$code" ] || continue
        oid=\$(printf '00000000-0000-4000-8000-%012d' "\$(expr "\$i" + 0)")
        emu_ctl POST /control/approve "{\"user_code\":\"\$code\",\"claims\":{\"preferred_username\":\"user\$i@$DOMAIN\",\"oid\":\"\$oid\",\"groups\":[\"$ADMINS_GROUP_ID\"]}}" >/dev/null
        touch "$T/approved.\$i"; approved=\$((approved + 1))
    done
    sleep 0.2
done
rc=0
for i in \$(seq -w 0 $((N - 1))); do
    wait \$(cat "$T/pid.\$i") || { echo "FAIL: user\$i's login:"; cat "$T/out.\$i"; rc=1; }
done
echo "\$approved of $N logins approved"
/usr/sbin/grpck -r /etc/group /etc/gshadow || { echo "FAIL: grpck -r"; rc=1; }
ls -a /etc | grep -F '.pam_aad.' && { echo "FAIL: temporary files left in /etc"; rc=1; }
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL GRAPH_URL top_srcdir
groupmap_in_namespace "$T/scenario.sh" || exit 1

rc=0
for f in group gshadow; do
    admins=$(sed -n 's/^aadadmins:[^:]*:[^:]*://p' "$T/etc/$f")
    ops=$(sed -n 's/^aadops:[^:]*:[^:]*://p' "$T/etc/$f")
    for i in $(seq -w 0 $((N - 1))); do
        n=$(printf '%s\n' "$admins" | tr ',' '\n' | grep -cx "user$i" || true)
        [ "$n" = 1 ] || { echo "FAIL: user$i is $n times in aadadmins in $f"; rc=1; }
    done
    [ -z "$ops" ] || { echo "FAIL: aadops in $f still lists [$ops]"; rc=1; }
    groupmap_strip_members "$T/$f.before" aadadmins | groupmap_strip_members /dev/stdin aadops >"$T/$f.a"
    groupmap_strip_members "$T/etc/$f" aadadmins | groupmap_strip_members /dev/stdin aadops >"$T/$f.b"
    cmp -s "$T/$f.a" "$T/$f.b" || { echo "FAIL: $f changed beyond the two member lists"; diff "$T/$f.a" "$T/$f.b"; rc=1; }
    echo "$f: aadadmins has $(printf '%s' "$admins" | tr ',' '\n' | grep -c .) members, aadops $(printf '%s' "$ops" | tr ',' '\n' | grep -c . || true)"
done
[ $rc = 0 ] && echo "PASS: $N concurrent logins updated the same groups, nothing lost, grpck -r clean"
exit $rc
