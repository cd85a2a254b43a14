#!/bin/sh
# ssh_login.sh - `make bench`'s whole SSH login: ssh start -> shell prompt,
# with pam_aad and with pam_unix and a password, the same sshd (one
# process, its configuration from doc/sshd_config.d) and the same stack
# (doc/pam.d/sshd: with its pam_aad line for one, without it for the
# other, so common-auth's pam_unix answers; the same account and session
# lines). Run by tests/bench/bench in its private namespaces, as root:
#
#   ssh_login.sh N PAM_AAD_SO HELPER CONFIG CONTROL_URL UPN HASH_PASSWORD
#
# N logins of each kind, in turn. Prints "method METHOD" (this host's
# password hash), then one line per login, "ssh aad MS",
# "ssh unix MS" or "ssh unix-sha512 MS": the time the machines take,
# without the user's: from the start of ssh to the code (or the password
# prompt), plus from Enter (or the password) to the shell prompt. The
# pam_aad user approves at once and presses Enter 1.5 s after the code;
# the helper polls when Enter comes (at Entra's interval, 5 s, which
# allows it), so the poll and the token's checks are inside the second
# span, as the password's check is for pam_unix. "unix": the password
# hashed as this host's passwd(1) hashes it (pam_unix's method in
# common-password: yescrypt on Debian since 11); "unix-sha512": the same
# as SHA-512-crypt, the cheaper hash of older hosts.
set -eu
n=$1 so=$2 helper=$3 config=$4 control=$5 upn=$6 hash_password=$7
: "${top_srcdir:=.}"
# shellcheck source=../e2e/e2e-lib.sh
. "$top_srcdir/tests/e2e/e2e-lib.sh"
user=$E2E_USER uid=$E2E_UID pw="bench-pw-$$"
T=$(mktemp -d /tmp/pam_aad_bench_ssh.XXXXXX)
chmod 755 "$T"
trap '[ -s "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/home" && chown "$uid:$uid" "$T/home"
cp -a /etc/pam.d "$T/pam.d"
cp /etc/passwd "$T/passwd"; cp /etc/group "$T/group"; cp /etc/shadow "$T/shadow"
echo "$user:x:$uid:$uid:bench user:$T/home:/bin/sh" >>"$T/passwd"
echo "$user:x:$uid:" >>"$T/group"
method=$(sed -n 's/^password.*pam_unix\.so.*[[:space:]]\(yescrypt\|gost_yescrypt\|sha512\|sha256\|blowfish\|md5\)\([[:space:]].*\)\{0,1\}$/\1/p' \
    /etc/pam.d/common-password | head -n 1)
cp "$T/shadow" "$T/shadow.unix-sha512"
echo "$user:$("$hash_password" "${method:-sha512}" "$pw"):19000:0:99999:7:::" >>"$T/shadow"
echo "$user:$("$hash_password" sha512 "$pw"):19000:0:99999:7:::" >>"$T/shadow.unix-sha512"
cp "$T/shadow" "$T/shadow.unix"
echo "method ${method:-sha512}"
sed -e "s|pam_aad.so|$so helper=$helper config=$config|" "$top_srcdir/doc/pam.d/sshd" >"$T/sshd.aad"
grep -v 'pam_aad\.so' "$top_srcdir/doc/pam.d/sshd" >"$T/sshd.unix"
for f in pam.d passwd group shadow; do mount --bind "$T/$f" "/etc/$f"; done

e2e_sshd_config "$T"
port=$SSHD_PORT
mkdir -p /run/sshd
/usr/sbin/sshd -f "$T/sshd_config" -E "$T/sshd.log"
for _ in $(seq 50); do [ -s "$T/sshd.pid" ] && break; sleep 0.1; done
[ -s "$T/sshd.pid" ] || { echo "ssh_login.sh: sshd did not start" >&2; cat "$T/sshd.log" >&2; exit 1; }

cat >"$T/ssh.exp" <<'EXP'
set timeout 60
lassign $argv mode port pw control upn
log_user 0
set t0 [clock milliseconds]
spawn ssh -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
    aaduser@127.0.0.1
if {$mode eq "aad"} {
    expect {
        -re {Code: ([A-Z0-9-]+).*Press Enter once you have signed in} { set code $expect_out(1,string) }
        timeout { puts stderr "no code"; exit 2 }
        eof { puts stderr "no code"; exit 2 }
    }
    set t1 [clock milliseconds]
    exec curl -sS -m 10 -X POST -H {Content-Type: application/json} \
        --data-binary "{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\"}}" \
        $control/control/approve
    after 1500
    set answer ""
} else {
    expect {
        -re {[Pp]assword: ?$} {}
        timeout { puts stderr "no password prompt"; exit 2 }
        eof { puts stderr "no password prompt"; exit 2 }
    }
    set t1 [clock milliseconds]
    set answer $pw
}
set t2 [clock milliseconds]
send "$answer\r"
expect {
    -re {[$#] $} {}
    timeout { puts stderr "no shell"; exit 3 }
    eof { puts stderr "no shell"; exit 3 }
}
set t3 [clock milliseconds]
send "exit\r"
expect eof
puts "ssh $mode [expr {($t1 - $t0) + ($t3 - $t2)}]"
EXP

rc=0
for _ in $(seq "$n"); do
    for mode in aad unix unix-sha512; do
        stack=${mode%-sha512}
        cp "$T/sshd.$stack" "$T/pam.d/sshd"
        # In place: /etc/shadow is a bind mount of this very file.
        [ "$stack" = aad ] || cp "$T/shadow.$mode" "$T/shadow"
        expect "$T/ssh.exp" "$mode" "$port" "$pw" "$control" "$upn" || rc=1
    done
done
[ "$rc" = 0 ] || { echo "--- sshd log" >&2; tail -20 "$T/sshd.log" >&2; }
exit $rc
