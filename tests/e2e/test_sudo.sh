#!/bin/sh
# Real sudo: the unprivileged test user runs `sudo -k true` with the doc/
# sudo stack. sudo passes PAM_SILENT, so the code must be in the prompt;
# the approved identity succeeds, another identity fails.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require sudo setpriv curl
e2e_setup
e2e_doc_service sudo
printf 'Defaults !lecture\n%s ALL=(ALL) ALL\n' "$E2E_USER" >"$T/sudoers"
chmod 0440 "$T/sudoers"

cat >"$T/sudo.exp" <<'EXP'
set timeout 60
lassign $argv upn expect_ok home
spawn setpriv --reuid=4242 --regid=4242 --clear-groups env HOME=$home \
    sh -c {sudo -k true; echo SUDO-RC=$?}
expect {
    -re {Open: https://login.microsoft.com/device\s+Code: ([A-Z0-9-]+)\s+Press Enter once you have signed in} {
        set code $expect_out(1,string)
    }
    timeout { puts "NO-CODE-IN-PROMPT"; exit 2 }
}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":{\"preferred_username\":\"$upn\"}}' >/dev/null"
send "\r"
expect {
    -re {SUDO-RC=([0-9]+)} { set rc $expect_out(1,string) }
    -re {Code: [A-Z0-9-]+} { set rc retry }
    timeout { puts "NO-RESULT"; exit 3 }
}
if {$expect_ok} { exit [expr {$rc eq "0" ? 0 : 4}] }
exit [expr {$rc ne "0" ? 0 : 5}]
EXP

cat >"$T/scenario.sh" <<SH
set -eu
rc=0
echo "--- sudo, approved as $E2E_UPN"
expect "$T/sudo.exp" $E2E_UPN 1 "$T/home" || rc=1
echo "--- sudo, signed in as mallory@contoso.example"
expect "$T/sudo.exp" mallory@contoso.example 0 "$T/home" || rc=1
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
e2e_in_namespace "$T/scenario.sh"
echo "PASS: sudo with the device code, and refusal of another identity"
