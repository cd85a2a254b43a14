#!/bin/sh
# Real OpenSSH: sshd on 127.0.0.1 with UsePAM and keyboard-interactive, a
# real ssh client under expect. The URL and code are on screen before Enter;
# the approved user gets a command run; a mismatched identity is refused.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen curl
e2e_setup

# Our sshd stack is exactly the doc/ example (with the module path and config).
e2e_doc_service sshd
e2e_sshd_config "$T"
PORT=$SSHD_PORT

cat >"$T/ssh.exp" <<'EXP'
set timeout 60
lassign $argv port upn expect_ok
spawn ssh -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
    aaduser@127.0.0.1 {echo LOGGED-IN-AS-$(id -un)}
expect {
    -re {Open: https://login.microsoft.com/device\s+Code: ([A-Z0-9-]+).*Press Enter once you have signed in} {
        set code $expect_out(1,string)
    }
    timeout { puts "NO-CODE-SHOWN"; exit 2 }
}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\"}}' >/dev/null"
send "\r"
if {$expect_ok} {
    expect {
        "LOGGED-IN-AS-aaduser" { exit 0 }
        timeout { puts "NO-SHELL"; exit 3 }
        eof { puts "EOF-BEFORE-LOGIN"; exit 3 }
    }
} else {
    expect {
        "LOGGED-IN-AS" { puts "WRONGLY-LOGGED-IN"; exit 4 }
        -re "Permission denied|Connection closed" { exit 0 }
        timeout { puts "NO-REFUSAL"; exit 4 }
        eof { exit 0 }
    }
}
EXP

cat >"$T/scenario.sh" <<SH
set -eu
. "$T/sshd_start.sh"
rc=0
echo "--- approved identity: $E2E_UPN"
expect "$T/ssh.exp" $PORT $E2E_UPN 1 || rc=1
echo "--- mismatched identity: mallory@contoso.example"
expect "$T/ssh.exp" $PORT mallory@contoso.example 0 || rc=1
kill \$(cat "$T/sshd.pid")
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
if e2e_in_namespace "$T/scenario.sh"; then
    echo "PASS: ssh login with the device code, and refusal of another identity"
else
    echo "--- sshd log"; cat "$T/sshd.log" || true
    exit 1
fi
