#!/bin/sh
# Real login(1) on a pty (expect): the code is shown on the console,
# approval logs the user in to a shell.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require login curl
e2e_setup
e2e_doc_service login

cat >"$T/login.exp" <<'EXP'
set timeout 60
lassign $argv upn
spawn login aaduser
expect {
    -re {enter the code ([A-Z0-9-]+) to authenticate} { set code $expect_out(1,string) }
    timeout { puts "NO-CODE-SHOWN"; exit 2 }
}
expect -re {press Enter once signed in}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\"}}' >/dev/null"
send "\r"
expect {
    -re {[$#] $} {}
    "Login incorrect" { puts "LOGIN-INCORRECT"; exit 3 }
    timeout { puts "NO-SHELL"; exit 3 }
}
send "echo SHELL-OF-\$(id -un)\r"
expect {
    "SHELL-OF-aaduser" { send "exit\r"; exit 0 }
    timeout { puts "NO-SHELL-OUTPUT"; exit 4 }
}
EXP

cat >"$T/scenario.sh" <<SH
set -eu
expect "$T/login.exp" $E2E_UPN
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
e2e_in_namespace "$T/scenario.sh"
echo "PASS: console login with the device code"
