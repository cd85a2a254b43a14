#!/bin/sh
# aad-login sync with the real libnss-extrausers and a real sshd, as root in
# private mount namespaces (test copies of /etc/nsswitch.conf,
# /var/lib/extrausers and /home are bind-mounted; the host's are never
# touched):
#  - a member nobody created by hand logs in over ssh with the device code
#    and gets a shell and a home (pam_mkhomedir, as pam-auth-update
#    --enable mkhomedir puts it in common-session);
#  - removed from the group, the next sync locks the account and ssh refuses;
#  - a name that exists locally is skipped, the local account untouched;
#  - the same oid gets the same uid on a second "host" (another namespace,
#    other members synced in another order);
#  - a fault in the middle of a write (disk full) leaves the old files whole.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen curl jq openssl getent
NSS_LIB=
for d in /usr/lib /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /lib; do
    [ -e "$d/libnss_extrausers.so.2" ] && NSS_LIB=$d/libnss_extrausers.so.2
done
[ -n "$NSS_LIB" ] || e2e_skip "libnss-extrausers is not installed (apt-get install libnss-extrausers)"
[ -d /var/lib/extrausers ] || e2e_skip "/var/lib/extrausers is missing (libnss-extrausers creates it)"
e2e_setup
AAD_LOGIN=$(cd "$builddir" && pwd)/tools/aad-login
GROUP=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a0001
GROUP_B=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a000b
OID_NEWBIE=4e3b1e00-0000-4000-8000-000000000001
OID_OTHER=07e20000-0000-4000-8000-000000000002

# The application's certificate, registered with the emulator.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/app.key" -out "$T/app.pem" -days 2 \
    -subj /CN=pam_aad-sync >/dev/null 2>&1
chmod 600 "$T/app.key"
emu_ctl POST /control/client-cert "$(jq -n --rawfile pem "$T/app.pem" '{pem:$pem}')" >/dev/null
cat >>"$T/pam_aad.conf" <<CONF
graph_endpoint = $GRAPH_URL
client_certificate = $T/app.pem
client_key = $T/app.key
provision_groups = $GROUP
CONF
directory() { emu_ctl POST /control/graph/directory "$1" >/dev/null; }
member() { printf '{"id":"%s","userPrincipalName":"%s@%s","accountEnabled":true}' "$1" "$2" "$DOMAIN"; }
directory "{\"group\":\"$GROUP\",\"add\":[$(member $OID_NEWBIE newbie),$(member $OID_OTHER $E2E_USER)]}"
directory "{\"group\":\"$GROUP_B\",\"generate\":{\"count\":5,\"prefix\":\"b\"}}"
directory "{\"group\":\"$GROUP_B\",\"add\":[\"$OID_NEWBIE\"]}"

# Debian's nsswitch.conf with extrausers after files, as the guide says.
sed -e 's/^\(passwd\|group\|shadow\):\([[:space:]]*\)files\b/\1:\2files extrausers/' \
    /etc/nsswitch.conf >"$T/nsswitch.conf"
grep -q '^passwd:.*extrausers' "$T/nsswitch.conf" || echo "passwd: files extrausers" >>"$T/nsswitch.conf"
# pam_mkhomedir in common-session, as `pam-auth-update --enable mkhomedir` does.
echo "session optional pam_mkhomedir.so" >>"$T/pam.d/common-session"
mkdir -p "$T/extrausers" "$T/extrausers_b" "$T/homes" "$T/state" "$T/state_b"
chmod 700 "$T/state" "$T/state_b"
e2e_doc_service sshd
e2e_sshd_config "$T"
PORT=$SSHD_PORT

# ssh.exp PORT USER UPN EXPECT_OK: a device-code login over ssh; the
# session prints who it is and where.
cat >"$T/ssh.exp" <<'EXP'
set timeout 60
lassign $argv port user upn expect_ok
spawn ssh -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
    $user@127.0.0.1 {echo SESSION-OF-$(id -un)-IN-$(pwd)-UID-$(id -u)}
expect {
    -re {Code: ([A-Z0-9-]+).*Press Enter once you have signed in} { set code $expect_out(1,string) }
    timeout { puts "NO-CODE-SHOWN"; exit 2 }
    eof { puts "EOF-BEFORE-CODE"; exit [expr {$expect_ok ? 2 : 0}] }
}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\",\"oid\":\"4e3b1e00-0000-4000-8000-000000000001\"}}' >/dev/null"
send "\r"
if {$expect_ok} {
    expect {
        -re {SESSION-OF-[^\r\n]*} { puts "\n$expect_out(0,string)"; exit 0 }
        timeout { puts "NO-SHELL"; exit 3 }
        eof { puts "EOF-BEFORE-SESSION"; exit 3 }
    }
} else {
    expect {
        -re {SESSION-OF-[^\r\n]*} { puts "WRONGLY-LOGGED-IN"; exit 4 }
        -re {(expired|Permission denied|Connection closed|not available)[^\r\n]*} {
            puts "\nREFUSED: $expect_out(0,string)"; exit 0
        }
        timeout { puts "NO-REFUSAL"; exit 4 }
        eof { puts "\nREFUSED: connection ended"; exit 0 }
    }
}
EXP

# Host A: sshd, the sync, the logins.
cat >"$T/host_a.sh" <<SH
set -u
. "$top_srcdir/tests/emulator/emu.sh"
mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$T/extrausers" /var/lib/extrausers
mount --bind "$T/homes" /home
. "$T/sshd_start.sh"
rc=0
ok() { echo "ok   - \$1"; }
bad() { echo "FAIL - \$1"; rc=1; }
sync() { "$AAD_LOGIN" sync --config "$T/pam_aad.conf" --state-dir "$T/state" "\$@"; }

getent passwd newbie >/dev/null && bad "newbie exists before the sync"
sync >"$T/sync1.out" 2>&1 || { cat "$T/sync1.out"; bad "first sync failed"; }
line=\$(getent passwd newbie) && ok "after the sync the name service knows newbie: \$line" ||
    bad "getent passwd newbie after the sync"
getent shadow newbie | grep -q '^newbie:!:' && ok "newbie's password is locked (!)" || bad "newbie's shadow line"
[ "\$(getent passwd $E2E_USER | cut -d: -f3)" = $E2E_UID ] &&
    grep -q "skipped $E2E_USER@$DOMAIN.*already exists" "$T/sync1.out" &&
    ok "$E2E_USER (a local account) is skipped and keeps uid $E2E_UID" || bad "the local name was not skipped"
"$AAD_LOGIN" --check --config "$T/pam_aad.conf" --state-dir "$T/state" >"$T/check.out" 2>&1
grep -q "^ok   nsswitch.conf" "$T/check.out" && grep -q "^ok   last sync: .* 1 added" "$T/check.out" &&
    grep -q "^warn skipped: $E2E_USER@$DOMAIN" "$T/check.out" &&
    ok "--check: nsswitch lists extrausers, the last sync, the skip" || { cat "$T/check.out"; bad "--check"; }

out=\$(expect "$T/ssh.exp" $PORT newbie newbie@$DOMAIN 1 2>&1)
uid=\$(getent passwd newbie | cut -d: -f3)
echo "\$out" | grep -q "SESSION-OF-newbie-IN-/home/newbie-UID-\$uid" &&
    ok "newbie logs in over ssh with the device code: a shell, uid \$uid, home /home/newbie" ||
    { echo "\$out"; bad "newbie's ssh login"; }
[ -d /home/newbie ] && [ "\$(stat -c %u /home/newbie)" = "\$uid" ] &&
    ok "pam_mkhomedir made /home/newbie, owned by uid \$uid" || bad "no home made for newbie"
echo "\$uid" >"$T/uid_a"

emu_ctl POST /control/graph/directory '{"group":"$GROUP","remove":["$OID_NEWBIE"]}' >/dev/null
sync >"$T/sync2.out" 2>&1 || { cat "$T/sync2.out"; bad "second sync failed"; }
grep -q "locked newbie" "$T/sync2.out" && ok "removed from the group, newbie is locked by the next sync" ||
    { cat "$T/sync2.out"; bad "newbie not locked"; }
[ "\$(getent passwd newbie | cut -d: -f3)" = "\$uid" ] && ok "the locked account keeps its uid" || bad "uid changed"
out=\$(expect "$T/ssh.exp" $PORT newbie newbie@$DOMAIN 0 2>&1)
echo "\$out" | grep -q "^Your account has expired" &&
    ok "ssh refuses the locked account: \$(echo "\$out" | grep REFUSED | tr -d '\r')" ||
    { echo "\$out"; bad "ssh did not refuse newbie for the expired account"; }

# A fault in the middle of a write: the disk is full.
cp -a /var/lib/extrausers/. "$T/before/"
mount -t tmpfs -o size=24k tmpfs /var/lib/extrausers
cp -a "$T/before/." /var/lib/extrausers/
emu_ctl POST /control/graph/directory '{"group":"$GROUP","generate":{"count":400,"prefix":"bulk"}}' >/dev/null
if sync >"$T/sync3.out" 2>&1; then bad "a sync that cannot write succeeded"; fi
grep -q "the old file is kept" "$T/sync3.out" && ok "the full disk is reported: \$(tail -1 "$T/sync3.out")" ||
    { cat "$T/sync3.out"; bad "no write failure reported"; }
whole=1
for f in passwd group shadow; do
    cmp -s "$T/before/\$f" "/var/lib/extrausers/\$f" || { bad "\$f changed by a failed write"; whole=0; }
done
ls -A /var/lib/extrausers | grep -q '^\.' && { bad "a temporary file was left behind"; whole=0; }
[ \$whole = 1 ] && getent passwd newbie >/dev/null && ! getent passwd bulk1 >/dev/null &&
    ok "a failed write leaves the old files whole (passwd, group, shadow), no temporary file"
umount /var/lib/extrausers
kill \$(cat "$T/sshd.pid")
exit \$rc
SH

# Host B: another namespace, other groups, other members first.
cat >"$T/host_b.sh" <<SH
set -u
mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$T/extrausers_b" /var/lib/extrausers
"$AAD_LOGIN" sync --config "$T/pam_aad.conf" -o provision_groups=$GROUP_B --state-dir "$T/state_b" \
    >"$T/sync_b.out" 2>&1 || { cat "$T/sync_b.out"; exit 1; }
getent passwd newbie | cut -d: -f3 >"$T/uid_b"
SH

mkdir -p "$T/before"
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
rc=0
e2e_in_namespace "$T/host_a.sh" || rc=1
unshare --mount --propagation private sh "$T/host_b.sh" || { echo "FAIL - host B's sync"; rc=1; }
if [ -s "$T/uid_a" ] && [ "$(cat "$T/uid_a")" = "$(cat "$T/uid_b")" ]; then
    echo "ok   - the same oid has the same uid on a second host: $(cat "$T/uid_b")"
else
    echo "FAIL - newbie's uid differs between hosts: $(cat "$T/uid_a" 2>/dev/null) and $(cat "$T/uid_b" 2>/dev/null)"
    rc=1
fi
[ -z "$(ls -A /var/lib/extrausers 2>/dev/null)" ] || { echo "FAIL - the host's /var/lib/extrausers was written"; rc=1; }
if [ $rc -ne 0 ]; then
    echo "--- sshd log"; cat "$T/sshd.log" 2>/dev/null || true
    exit 1
fi
echo "PASS: accounts made by aad-login sync, in the real name service and sshd"
