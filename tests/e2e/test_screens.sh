#!/bin/sh
# What the person at the terminal sees, on a real 80x24 terminal (tmux), for
# real sshd, sudo and login with the guide's stanzas: every refusal says why
# before the module returns, Enter before the sign-in asks again, an expired
# code is renewed once, an unreachable Entra ID is named before the stack
# falls back, a Conditional Access block names its AADSTS code, and a wrong
# client_id says the host is misconfigured. At ssh's LogLevel ERROR (which
# hides banners, not prompts) the reason of a refusal is in the next code's
# prompt, and after a Conditional Access block no new code is shown.
#
# Each screen is asserted on and printed to the log; with E2E_SCREENS_DIR
# set they are also kept there (one file per service and scenario).
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen sudo login setpriv tmux curl
E2E_EMU_LIFETIME=600 e2e_setup
for s in sshd sudo login; do e2e_doc_service "$s"; done
printf 'Defaults !lecture\n%s ALL=(ALL) ALL\n' "$E2E_USER" >"$T/sudoers"
chmod 0440 "$T/sudoers"
echo "host_label = web-07" >>"$T/pam_aad.conf"
cp "$T/pam_aad.conf" "$T/pam_aad.conf.good"

ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
{
    printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n' "$PORT" "$T/host_key" "$T/sshd.pid"
    printf 'UsePAM yes\nPubkeyAuthentication no\nStrictModes no\nPermitRootLogin no\n'
    # The guide's drop-in (the stack's password fallback runs inside
    # keyboard-interactive).
    cat "$top_srcdir/doc/sshd_config.d/pam_aad.conf"
} >"$T/sshd_config"

cat >"$T/screens.sh" <<'SH'
set -eu
. "$top_srcdir/tests/emulator/emu.sh"
. "$top_srcdir/tests/e2e/screen-lib.sh"
trap 'tm kill-server 2>/dev/null || true' EXIT

# new_code OLD: the code that replaced OLD, once its whole screen is up (its
# prompt on the last line): right after "here is a new one" the old code may
# still be the last one shown.
new_code() {
    _n=150
    while [ $_n -gt 0 ]; do
        _c=$(code_on_screen)
        if [ -n "$_c" ] && [ "$_c" != "$1" ] &&
            screen | grep -v '^ *$' | tail -n 1 | grep -qF -- "$PROMPT"; then
            echo "$_c"
            return 0
        fi
        sleep 0.2
        _n=$((_n - 1))
    done
    return 1
}

command_for() {
    case $1 in
    sshd) echo "ssh -p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null $E2E_USER@127.0.0.1" ;;
    sudo) echo "setpriv --reuid=$E2E_UID --regid=$E2E_UID --clear-groups env HOME=$T/home sh -c 'sudo -k; sudo id -un | sed s/^/LOGGED-IN-AS-/'" ;;
    login) echo "login $E2E_USER" ;;
    esac
}

approve() { # CODE UPN
    emu_ctl POST /control/approve "{\"user_code\":\"$1\",\"claims\":{\"preferred_username\":\"$2\"}}" >/dev/null
}

first_code() { # SERVICE: starts it and waits for the code screen
    start "$(command_for "$1")"
    if ! wait_for "$PROMPT" 60; then
        tm list-sessions || true
        ps -eo pid,ppid,stat,etime,args | grep -E 'ssh|sudo|login|pam_aad' | grep -v grep || true
        show "$1-no-code"
        echo "FAIL: $1: no code on screen"
        fails=$((fails + 1))
        return 1
    fi
}

# After a successful login: the shell's first command ran as the user.
# (not the typed command, which holds "LOGGED-IN-AS-$(id -un)")
success_text() {
    case $1 in sudo) echo "LOGGED-IN-AS-root" ;; *) echo "LOGGED-IN-AS-$E2E_USER" ;; esac
}
after_login() { # sshd and login start a shell; sudo ran its command
    case $1 in sudo) ;; *) sleep 1; tm send-keys -t "s$session" 'echo LOGGED-IN-AS-$(id -un)' Enter ;; esac
}

PROMPT="Press Enter once you have signed in:"
AGAIN="Finish on your phone, then press Enter:"
for svc in ${E2E_SCREENS_SERVICES:-sshd sudo login}; do
    echo "##### $svc"
    cp "$T/pam_aad.conf.good" "$T/pam_aad.conf"

    if first_code $svc; then
        show "$svc-1-code-screen"
        approve "$(code_on_screen)" bob@contoso.example
        press_enter "$PROMPT"
        expect_screen "$svc-2-wrong-account" "You signed in as bob@contoso.example; this login is for $E2E_USER."
    fi

    if first_code $svc; then
        emu_ctl POST /control/decline "{\"user_code\":\"$(code_on_screen)\"}" >/dev/null
        press_enter "$PROMPT"
        expect_screen "$svc-3-declined" "The sign-in was declined; nobody was logged in."
    fi

    if first_code $svc; then
        old=$(code_on_screen)
        emu_ctl POST /control/expire "{\"user_code\":\"$old\"}" >/dev/null
        press_enter "$PROMPT"
        expect_screen "$svc-4-expired-then-renewed" "That code expired; here is a new one."
        approve "$(new_code "$old")" "$E2E_UPN"
        press_enter "$PROMPT"
        after_login $svc
        expect_screen "$svc-4b-renewed-code-logs-in" "$(success_text $svc)"
    fi

    if first_code $svc; then
        press_enter "$PROMPT"
        expect_screen "$svc-5-enter-before-approval" "Not signed in yet"
        approve "$(code_on_screen)" "$E2E_UPN"
        press_enter "$AGAIN"
        after_login $svc
        expect_screen "$svc-5b-then-approved" "$(success_text $svc)"
    fi

    if first_code $svc; then
        emu_ctl POST /control/decline "{\"user_code\":\"$(code_on_screen)\",\"aadsts\":53003}" >/dev/null
        press_enter "$PROMPT"
        expect_screen "$svc-6-blocked-by-conditional-access" "(AADSTS53003). Contact your administrator (correlation ID "
    fi

    if [ "$svc" = sshd ]; then
        # ssh -o LogLevel=ERROR (or -q): no banner; what it says must be in a prompt.
        start "ssh -o LogLevel=ERROR -p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null $E2E_USER@127.0.0.1"
        if wait_for "$PROMPT" 60; then
            old=$(code_on_screen)
            emu_ctl POST /control/decline "{\"user_code\":\"$old\"}" >/dev/null
            press_enter "$PROMPT"
            if new=$(new_code "$old"); then
                expect_screen "sshd-9-loglevel-error-reason-in-the-next-prompt" "The sign-in was declined; nobody was logged in."
                emu_ctl POST /control/decline "{\"user_code\":\"$new\",\"aadsts\":53003}" >/dev/null
                press_enter "$PROMPT"
                expect_screen "sshd-10-loglevel-error-no-new-code-after-a-block" "A new code would be blocked the same way. Press Enter to close:"
                if [ "$(code_on_screen)" != "$new" ]; then
                    echo "FAIL: sshd-10: a new code was shown after the block"
                    fails=$((fails + 1))
                fi
            else
                show "sshd-9-FAILED"
                echo "FAIL: sshd-9: no new code after the declined one"
                fails=$((fails + 1))
            fi
        else
            show "sshd-9-no-code"
            echo "FAIL: sshd-9: no code on screen at LogLevel ERROR"
            fails=$((fails + 1))
        fi
    fi

    sed -i "s|^authority = .*|authority = https://127.0.0.1:1|" "$T/pam_aad.conf"
    start "$(command_for $svc)"
    expect_screen "$svc-7-authority-down" "Microsoft Entra ID cannot be reached; using the next sign-in method."

    cp "$T/pam_aad.conf.good" "$T/pam_aad.conf"
    sed -i "s|^client_id = .*|client_id = 00000000-0000-0000-0000-0000000000aa|" "$T/pam_aad.conf"
    start "$(command_for $svc)"
    expect_screen "$svc-8-misconfigured-client-id" "This host's sign-in with Microsoft Entra ID is misconfigured (AADSTS700016)."
done
tm kill-server 2>/dev/null || true
exit $fails
SH

cat >"$T/scenario.sh" <<SH
set -eu
export E2E_SCREENS_SERVICES="${E2E_SCREENS_SERVICES:-}" E2E_SCREENS_DIR="${E2E_SCREENS_DIR:-}"
export T=$T PORT=$PORT E2E_USER=$E2E_USER E2E_UID=$E2E_UID E2E_UPN=$E2E_UPN
export AUTHORITY=$AUTHORITY CA_FILE=$CA_FILE CONTROL_URL=$CONTROL_URL top_srcdir=$top_srcdir
. "$top_srcdir/tests/emulator/emu.sh"
mkdir -p /run/sshd
/usr/sbin/sshd -f "$T/sshd_config" -E "$T/sshd.log"
for i in \$(seq 50); do [ -s "$T/sshd.pid" ] && break; sleep 0.1; done
rc=0
sh "$T/screens.sh" || rc=\$?
kill \$(cat "$T/sshd.pid") 2>/dev/null || true
exit \$rc
SH
if e2e_in_namespace "$T/scenario.sh"; then
    echo "PASS: every screen says what happened"
else
    echo "--- sshd log"; tail -30 "$T/sshd.log" || true
    exit 1
fi
