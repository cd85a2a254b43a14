#!/bin/sh
# Real login(1) on a pty (expect), with the guide's stanza (doc/pam.d/login)
# and allow_root = no:
#  - an Entra ID user gets the code on the console, and approval logs them
#    in to a shell;
#  - break-glass: `login root` is not pam_aad's (PAM_IGNORE, before any
#    network traffic), so it reaches root's password prompt, and root's
#    password logs in.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require login curl openssl
e2e_setup
e2e_doc_service login
echo "allow_root = no" >>"$T/pam_aad.conf"

# A known root password in the test copy of /etc/shadow.
ROOT_PW="break-glass-$$"
ROOT_HASH=$(openssl passwd -6 "$ROOT_PW")
awk -F: -v OFS=: -v h="$ROOT_HASH" '$1 == "root" { $2 = h } { print }' "$T/shadow" >"$T/shadow.new"
cat "$T/shadow.new" >"$T/shadow"
rm -f "$T/shadow.new"

cat >"$T/login.exp" <<'EXP'
set timeout 60
lassign $argv upn
spawn login aaduser
expect {
    -re {Code: ([A-Z0-9-]+)} { set code $expect_out(1,string) }
    timeout { puts "NO-CODE-SHOWN"; exit 2 }
}
expect -re {Press Enter once you have signed in}
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

cat >"$T/root.exp" <<'EXP'
set timeout 60
lassign $argv pw
spawn login root
expect {
    -re {[Pp]assword: ?$} {}
    -re {Code: } { puts "ROOT-GOT-A-DEVICE-CODE"; exit 5 }
    "Login incorrect" { puts "LOGIN-INCORRECT-WITHOUT-PASSWORD-PROMPT"; exit 3 }
    timeout { puts "NO-PASSWORD-PROMPT"; exit 2 }
}
send "$pw\r"
expect {
    -re {[$#] $} {}
    "Login incorrect" { puts "ROOT-PASSWORD-REFUSED"; exit 3 }
    timeout { puts "NO-ROOT-SHELL"; exit 3 }
}
send "echo SHELL-OF-\$(id -un)\r"
expect {
    "SHELL-OF-root" { send "exit\r"; exit 0 }
    timeout { puts "NO-ROOT-SHELL-OUTPUT"; exit 4 }
}
EXP

devicecodes() {
    emu_ctl GET /control/stats | sed -n 's/.*"devicecode": *\([0-9]*\).*/\1/p'
}

before=$(devicecodes)
cat >"$T/root.sh" <<SH
set -eu
expect "$T/root.exp" "$ROOT_PW"
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
e2e_in_namespace "$T/root.sh"
after=$(devicecodes)
if [ -z "$before" ] || [ "$before" != "$after" ]; then
    echo "FAIL: login root asked the authority for a device code ($before -> $after)"
    exit 1
fi
echo "PASS: break-glass: login root reaches root's password (no device code), which logs in"

cat >"$T/scenario.sh" <<SH
set -eu
expect "$T/login.exp" $E2E_UPN
SH
e2e_in_namespace "$T/scenario.sh"
echo "PASS: console login with the device code"
