#!/bin/sh
# Real setuid callers: su, chsh and chfn started by an unprivileged user
# with umask 000 and a hostile environment (SSLKEYLOGFILE, OPENSSL_CONF,
# OPENSSL_MODULES, SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE and proxies
# aimed at attacker-chosen paths and a listener of ours). pam_aad is enabled
# the way the package does it: real pam-auth-update with the shipped profile
# (debian/pam-configs/aad), so it sits after pam_unix in common-auth.
#
# Checked: nothing is created, written or read at the attacker's paths (the
# old in-process libcurl made root create SSLKEYLOGFILE world-writable), the
# proxy listener gets no connection, the su'd shell holds no descriptor but
# its terminal, an approved su gives the target's shell, approved chsh and
# chfn change the (private copy of) /etc/passwd, declined or mismatched
# sign-ins are refused.
#
# chsh and chfn rewrite /etc/passwd by rename(2) next to it (lock file,
# passwd-, passwd+): inside the namespace the whole /etc is a private copy,
# so nothing of the host's /etc is ever written.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require su chsh chfn setpriv curl pam-auth-update
e2e_setup

ATTACKER=attacker
ATTACKER_UID=4243
A="$T/attacker" # root-owned 0755, like /etc: only root can create files here
# An older tree has no helper (nor helper=): pass it only when it is built.
HELPER_ARG=
if [ -x "${PAM_AAD_HELPER:-}" ]; then HELPER_ARG="helper=$PAM_AAD_HELPER"; fi

# --- the second unprivileged user, the one who runs su --------------------
mkdir -p "$T/home-$ATTACKER"
echo "$ATTACKER:x:$ATTACKER_UID:$ATTACKER_UID:local attacker:$T/home-$ATTACKER:/bin/sh" >>"$T/passwd"
echo "$ATTACKER:x:$ATTACKER_UID:" >>"$T/group"
echo "$ATTACKER:*:19000:0:99999:7:::" >>"$T/shadow"
chown "$ATTACKER_UID:$ATTACKER_UID" "$T/home-$ATTACKER"

# --- pam-auth-update's state, private copies; the shipped profile ---------
mkdir -p "$T/pam-configs" "$T/varlibpam" "$T/debconf"
cp -a /usr/share/pam-configs/. "$T/pam-configs/"
cp -a /var/lib/pam/. "$T/varlibpam/" 2>/dev/null || true
cp -a /var/cache/debconf/. "$T/debconf/" 2>/dev/null || true
sed -e "s|pam_aad.so|$PAM_AAD_SO $HELPER_ARG config=$T/pam_aad.conf|" \
    "$top_srcdir/debian/pam-configs/aad" >"$T/pam-configs/aad"

# --- the attacker's targets -------------------------------------------------
# Absent paths must stay absent; decoys must stay as they are. The decoys'
# atime is put before their mtime, so that any read updates it, even
# with relatime.
mkdir -m 755 "$A"
: >"$A/keylog-decoy"
printf 'openssl_conf = evil\n[evil]\nproviders = p\n[p]\nevil = e\n[e]\nactivate = 1\n' >"$A/openssl.cnf"
echo "not a certificate" >"$A/cert.pem"
echo "not a certificate" >"$A/ca-bundle.crt"
ABSENT="keylog ossl-modules certs"
DECOYS="keylog-decoy openssl.cnf cert.pem ca-bundle.crt"
for f in $DECOYS; do
    touch -m -d '2020-01-02 00:00:00' "$A/$f"
    touch -a -d '2020-01-01 00:00:00' "$A/$f"
    stat -c '%n %s %Y %X' "$A/$f" >>"$T/decoys.before"
done
# The read check needs atime updates: relatime does them (atime before mtime),
# noatime does not; then only "not written" is checked.
echo probe >"$T/atime-probe"
touch -m -d '2020-01-02 00:00:00' "$T/atime-probe"
touch -a -d '2020-01-01 00:00:00' "$T/atime-probe"
cat "$T/atime-probe" >/dev/null
READ_CHECK=yes
[ "$(stat -c %X "$T/atime-probe")" != "$(date -d '2020-01-01 00:00:00' +%s)" ] || READ_CHECK=no
# The host's own files, to show that the runs never wrote them.
HOST_ETC="/etc/passwd /etc/group /etc/shadow /etc/pam.d/common-auth /var/lib/pam/auth"
stat -c '%n %Y %Z' $HOST_ETC >"$T/host-etc.before" 2>/dev/null || true

# --- a proxy listener (Tcl, from expect) that logs every connection ---------
cat >"$T/listener.tcl" <<'TCL'
lassign $argv log portfile
proc accept {chan addr port} {
    set f [open $::log a]; puts $f "connection from $addr:$port"; close $f
    close $chan
}
set s [socket -server accept -myaddr 127.0.0.1 0]
set f [open $portfile w]; puts $f [lindex [fconfigure $s -sockname] 2]; close $f
after 600000 exit
vwait forever
TCL
: >"$T/proxy.log"
expect "$T/listener.tcl" "$T/proxy.log" "$T/proxy.port" &
LISTENER_PID=$!
trap 'kill "$LISTENER_PID" 2>/dev/null || true; e2e_cleanup' EXIT INT TERM
for i in $(seq 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
[ -s "$T/proxy.port" ] || { echo "FAIL: the proxy listener did not start"; exit 1; }
PROXY_PORT=$(cat "$T/proxy.port")
# The listener does see a connection (this one, and only this one).
curl -s --noproxy '*' -m 3 "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1 || true
for i in $(seq 30); do [ -s "$T/proxy.log" ] && break; sleep 0.1; done

# The caller's environment: env -i, then only these.
HOSTILE_ENV="PATH=/usr/bin:/bin TERM=dumb LC_ALL=C \
SSLKEYLOGFILE=$A/keylog OPENSSL_CONF=$A/openssl.cnf OPENSSL_MODULES=$A/ossl-modules \
SSL_CERT_FILE=$A/cert.pem SSL_CERT_DIR=$A/certs CURL_CA_BUNDLE=$A/ca-bundle.crt \
https_proxy=http://127.0.0.1:$PROXY_PORT HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT \
ALL_PROXY=socks5h://127.0.0.1:$PROXY_PORT all_proxy=socks5h://127.0.0.1:$PROXY_PORT"
# The same with SSLKEYLOGFILE at an existing (empty) file.
HOSTILE_ENV_DECOY=$(echo "$HOSTILE_ENV" | sed "s|SSLKEYLOGFILE=$A/keylog|SSLKEYLOGFILE=$A/keylog-decoy|")

# Each caller starts with descriptors 0, 1 and 2 only (make, the test driver,
# a CI runner and expect itself, which leaves a copy of its stderr open in
# what it spawns, hand others down), so that whatever else the su'd shell
# holds came from su and its PAM stack. perl-base is Essential in Debian.
cat >"$T/clean-fds.pl" <<'PL'
opendir(my $d, "/proc/self/fd") or die "/proc/self/fd: $!";
my @fds = grep { /^\d+$/ && $_ > 2 } readdir($d);
closedir($d);
require POSIX;
POSIX::close($_) for @fds;
exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";
PL
CLEAN_FDS="perl $T/clean-fds.pl"

# --- one run: expect MODE UPN OUT CMD... --------------------------------------
# MODE shell: su; approve as UPN, then in the shell list its descriptors
#   (to OUT.shellfd) and those of su (to OUT.sufd), and print who it is.
# MODE ok: approve as UPN, the command must print RC=0.
# MODE refused: approve as UPN (another identity) or decline (UPN "-"), the
#   command must print RC=non-zero.
cat >"$T/run.exp" <<'EXP'
set timeout 60
set cmd [lassign $argv mode upn out]
spawn {*}$cmd
expect {
    -re {Password: ?$} { send "\r"; exp_continue }
    -re {Open: https://login.microsoft.com/device\s+Code: ([A-Z0-9-]+).*Press Enter once you have signed in} {
        set code $expect_out(1,string)
    }
    -re {RC=([0-9]+)} { puts "\nNO-CODE-SHOWN (RC=$expect_out(1,string))"; exit 2 }
    timeout { puts "\nNO-CODE-SHOWN"; exit 2 }
    eof { puts "\nEOF-BEFORE-CODE"; exit 2 }
}
set emu ". $::env(top_srcdir)/tests/emulator/emu.sh"
if {$upn eq "-"} {
    exec sh -c "$emu; emu_ctl POST /control/decline '{\"user_code\":\"$code\"}' >/dev/null"
} else {
    exec sh -c "$emu; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\"}}' >/dev/null"
}
send "\r"
if {$mode eq "shell"} {
    expect {
        -re {[$#] $} {}
        -re {Authentication failure|RC=} { puts "\nREFUSED"; exit 3 }
        timeout { puts "\nNO-SHELL"; exit 3 }
        eof { puts "\nEOF-BEFORE-SHELL"; exit 3 }
    }
    # FD""END: the echoed command line does not match, only the output.
    send "echo PPID=\$PPID; ls -l /proc/\$\$/fd; echo FD\"\"END\r"
    expect {
        -re {PPID=([0-9]+)\r\n(.*)FDEND} {
            set ppid $expect_out(1,string)
            set f [open $out.shellfd w]; puts $f $expect_out(2,string); close $f
        }
        timeout { puts "\nNO-FD-LIST"; exit 4 }
    }
    # su itself (root, waiting for the shell): its descriptors now.
    catch {exec ls -l /proc/$ppid/fd} sufd
    set f [open $out.sufd w]; puts $f $sufd; close $f
    # The unix sockets of this moment (ss: type, state, queues, local
    # address and inode, peer address and inode, process), to tell what a
    # socket of su's is connected to.
    catch {exec ss -xpn} sockets
    set f [open $out.sockets w]; puts $f $sockets; close $f
    send "echo SHELL-OF-\$(id -un)\r"
    expect {
        -re {SHELL-OF-([a-z]+)} { set who $expect_out(1,string) }
        timeout { puts "\nNO-SHELL-OUTPUT"; exit 4 }
    }
    send "exit\r"
    expect { eof {} timeout { puts "\nSHELL-DID-NOT-EXIT"; exit 4 } }
    set f [open $out.who w]; puts $f $who; close $f
    exit 0
}
expect {
    -re {RC=([0-9]+)} { set rc $expect_out(1,string) }
    -re {Code: [A-Z0-9-]+} { puts "\nASKED-AGAIN"; exit 3 }
    timeout { puts "\nNO-RESULT"; exit 3 }
}
expect eof
if {$mode eq "ok"} { exit [expr {$rc eq "0" ? 0 : 4}] }
exit [expr {$rc ne "0" ? 0 : 5}]
EXP

cat >"$T/scenario.sh" <<SH
set -eu
# A private /etc (copied after the test files are mounted, so it holds them).
mkdir "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
mount --bind "$T/pam-configs" /usr/share/pam-configs
mount --bind "$T/varlibpam" /var/lib/pam
mount --bind "$T/debconf" /var/cache/debconf
rc=0
ok() { echo "ok   \$*"; }
fail() { echo "FAIL: \$*"; rc=1; }

DEBIAN_FRONTEND=noninteractive pam-auth-update --force --enable aad >"$T/pam-auth-update.log" 2>&1 ||
    { cat "$T/pam-auth-update.log"; fail "pam-auth-update --enable aad"; }
aad=\$(grep -n -E 'pam_aad(_plain)?\.so' /etc/pam.d/common-auth | head -1 | cut -d: -f1)
unix=\$(grep -n 'pam_unix.so' /etc/pam.d/common-auth | head -1 | cut -d: -f1)
if [ -n "\$aad" ] && [ -n "\$unix" ] && [ "\$aad" -gt "\$unix" ] &&
    sed -n "\${aad}p" /etc/pam.d/common-auth | grep -q 'default=ignore'; then
    ok "pam-auth-update --enable aad: pam_aad after pam_unix in common-auth:"
    grep -E 'pam_(unix|aad)' /etc/pam.d/common-auth | sed 's/^/       /'
else
    fail "pam-auth-update did not put pam_aad after pam_unix:"; cat /etc/pam.d/common-auth
fi

as_attacker="$CLEAN_FDS setpriv --reuid=$ATTACKER_UID --regid=$ATTACKER_UID --clear-groups env -i HOME=$T/home-$ATTACKER"
as_aaduser="$CLEAN_FDS setpriv --reuid=$E2E_UID --regid=$E2E_UID --clear-groups env -i HOME=$T/home"
run() { # WHAT MODE UPN OUT CMD...
    what=\$1; shift
    echo "--- \$what"
    if expect "$T/run.exp" "\$@"; then ok "\$what"; else fail "\$what"; fi
}

run "su $E2E_USER by $ATTACKER, approved as $E2E_UPN: a shell" shell $E2E_UPN "$T/su" \
    \$as_attacker $HOSTILE_ENV sh -c 'umask 000; exec su $E2E_USER'
run "su $E2E_USER by $ATTACKER, signed in as mallory@contoso.example: refused" refused \
    mallory@contoso.example "$T/su2" \
    \$as_attacker $HOSTILE_ENV_DECOY sh -c 'umask 000; su $E2E_USER -c true; echo RC=\$?'
run "chsh -s /bin/dash by $E2E_USER, declined: refused" refused - "$T/chsh1" \
    \$as_aaduser $HOSTILE_ENV_DECOY sh -c 'umask 000; chsh -s /bin/dash; echo RC=\$?'
run "chsh -s /bin/dash by $E2E_USER, approved: changed" ok $E2E_UPN "$T/chsh2" \
    \$as_aaduser $HOSTILE_ENV sh -c 'umask 000; chsh -s /bin/dash; echo RC=\$?'
run "chfn -r x by $E2E_USER, declined: refused" refused - "$T/chfn1" \
    \$as_aaduser $HOSTILE_ENV_DECOY sh -c 'umask 000; chfn -r x; echo RC=\$?'
run "chfn -r room-42 by $E2E_USER, approved: changed" ok $E2E_UPN "$T/chfn2" \
    \$as_aaduser $HOSTILE_ENV sh -c 'umask 000; chfn -r room-42; echo RC=\$?'

echo "--- results"
# 3. the logins did what they are for
if [ "\$(cat "$T/su.who" 2>/dev/null)" = $E2E_USER ]; then
    ok "su: the shell runs as $E2E_USER"
else
    fail "su: the shell runs as '\$(cat "$T/su.who" 2>/dev/null)', not $E2E_USER"
fi
entry=\$(grep "^$E2E_USER:" /etc/passwd)
case \$entry in
*:/bin/dash) ok "chsh: $E2E_USER's shell is /bin/dash in /etc/passwd (private copy)" ;;
*) fail "chsh: $E2E_USER's entry is \$entry" ;;
esac
case \$entry in
*:"AAD test user,room-42"*) ok "chfn: $E2E_USER's room is room-42 (\$(echo "\$entry" | cut -d: -f5))" ;;
*) fail "chfn: $E2E_USER's entry is \$entry" ;;
esac
# 2. the su'd shell, and su itself (root, waiting for the shell), hold their
# terminal only: what 0 is, and /dev/tty (dash keeps one for job control).
# su may hold one more: its connection to the system logger. glibc's
# syslog(3) keeps a socket connected to /dev/log (close-on-exec: the shell
# never gets it) once a module logged, when a logger listens there - on a
# host with journald or rsyslog, not here unless something made /dev/log:
# that made this check fail now and then. Such a socket is su's own, not
# pam_aad's; any other one fails.
only_terminal() { # FILE WHO [SOCKETS: ss -xpn output of that moment]
    if [ ! -s "\$1" ]; then fail "no descriptor list of \$2"; return; fi
    echo "     \$2's descriptors:"; tr -d '\r' <"\$1" | sed -n '/->/s/^/       /p'
    tty=\$(tr -d '\r' <"\$1" | awk '/->/ && \$(NF-2) == "0" { print \$NF }')
    # The inodes of the sockets bound at /dev/log (the loggers).
    loggers=\$(awk '\$5 == "/dev/log" { printf " %s ", \$6 }' "\${3:-/dev/null}")
    others=\$(tr -d '\r' <"\$1" | awk -v tty="\$tty" -v sockets="\${3:-/dev/null}" -v loggers="\$loggers" '
        BEGIN { while ((getline l < sockets) > 0) { split(l, f); peer[f[6]] = f[8] } }
        /->/ && \$NF != tty && \$NF != "/dev/tty" {
            inode = \$NF; gsub(/[^0-9]/, "", inode)
            if (\$NF ~ /^socket:/ && (" " peer[inode] " ") != "  " && index(loggers, " " peer[inode] " ")) {
                print "     (" \$(NF-2) " is its connection to the logger at /dev/log)" > "/dev/stderr"
                next
            }
            print
        }')
    if [ -n "\$tty" ] && [ -z "\$others" ]; then
        ok "\$2 holds no descriptor but its terminal (\$tty, /dev/tty)"
    else
        fail "\$2 holds descriptors that are not its terminal:"; echo "\$others"
        [ -z "\${3:-}" ] || { echo "     the unix sockets then:"; sed 's/^/       /' "\$3"; }
    fi
}
only_terminal "$T/su.shellfd" "the su'd shell"
only_terminal "$T/su.sufd" "su (root)" "$T/su.sockets"
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
rc=0
e2e_in_namespace "$T/scenario.sh" || rc=1

# 1. nothing at the attacker's paths
for f in $ABSENT; do
    if [ -e "$A/$f" ] || [ -L "$A/$f" ]; then
        echo "FAIL: $A/$f was created: $(stat -c '%A uid %u gid %g, %s bytes' "$A/$f")"
        rc=1
    else
        echo "ok   $A/$f was not created"
    fi
done
for f in $DECOYS; do stat -c '%n %s %Y %X' "$A/$f"; done >"$T/decoys.after"
while read -r name size mtime atime; do
    set -- $(grep "^$name " "$T/decoys.after")
    if [ "$2" != "$size" ] || [ "$3" != "$mtime" ]; then
        echo "FAIL: $name was written: $2 bytes now (was $size), mtime $(date -d "@$3" '+%F %T')"
        rc=1
    elif [ "$READ_CHECK" = yes ] && [ "$4" != "$atime" ]; then
        echo "FAIL: $name was read (atime $(date -d "@$4" '+%F %T'))"
        rc=1
    else
        echo "ok   $name untouched (not written$([ "$READ_CHECK" = yes ] && echo ", not read" || echo "; noatime: reads not checked"))"
    fi
done <"$T/decoys.before"
if [ "$(ls -A "$A" | sort | tr '\n' ' ')" = "$(echo $DECOYS | tr ' ' '\n' | sort | tr '\n' ' ')" ]; then
    echo "ok   $A holds the decoys only"
else
    echo "FAIL: $A holds: $(ls -A "$A" | tr '\n' ' ')"
    rc=1
fi
# The host's /etc was never written (everything went to the private copy).
stat -c '%n %Y %Z' $HOST_ETC >"$T/host-etc.after" 2>/dev/null || true
if cmp -s "$T/host-etc.before" "$T/host-etc.after" && ! ls /etc/passwd.lock /etc/passwd+ /etc/shadow.lock >/dev/null 2>&1; then
    echo "ok   the host's /etc/passwd, group, shadow, pam.d/common-auth, /var/lib/pam are unchanged"
else
    echo "FAIL: the host's files changed:"; diff "$T/host-etc.before" "$T/host-etc.after" || true
    rc=1
fi
# 4. the proxy listener: our own check connection, nothing else
n=$(wc -l <"$T/proxy.log")
if [ "$n" = 1 ]; then
    echo "ok   the proxy listener on 127.0.0.1:$PROXY_PORT got no connection (but the test's own)"
else
    echo "FAIL: the proxy listener on 127.0.0.1:$PROXY_PORT logged $n connections (1 expected: the test's own):"
    cat "$T/proxy.log"
    rc=1
fi
[ "$rc" = 0 ] || exit 1
echo "PASS: su, chsh and chfn with a hostile environment: nothing reached the attacker's paths"
