#!/bin/sh
# Sign in once per session, with real sshd, sudo and login on 80x24 tmux
# terminals: an ssh login with a device-code sign-in keeps a refresh token
# for its audit session (pam_loginuid), and sudo in that session is
# answered by one silent refresh - the emulator's counters show no device
# code and one refresh grant - while every refusal still comes from Entra:
#   sudo_in_the_session_refreshes_silently (0 device codes, 1 refresh);
#   the_token_is_on_no_disk_log_environment_or_descriptor (the user's shell,
#     the user's environment, every file under the test's disk directory,
#     everything sshd, sudo and pam_aad logged);
#   the_user_cannot_read_the_store (from the signed-in shell);
#   aad_login_sessions_lists_and_drops (the administrator's screen);
#   a_second_session_cannot_use_the_first_sign_in (device code there);
#   logout_removes_the_session_sign_in (pam_close_session);
#   removed_from_the_group_is_refused_and_the_membership_is_gone;
#   sign_in_frequency_runs_the_device_flow_with_its_sentence (AADSTS70043);
#   reauth_max_age_passed_runs_the_device_flow;
#   disabled_account_is_refused_and_the_sign_in_forgotten (AADSTS50057);
#   login_then_sudo_works_the_same (login(1)).
# Every screen is printed to the log (and kept in E2E_SCREENS_DIR if set).
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/groupmap-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen sudo login tmux socat jq curl /usr/sbin/grpck
E2E_EMU_LIFETIME=900 e2e_setup
for s in sshd sudo login; do e2e_doc_service "$s"; done
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 5" \
    "timeout = 120" "group_map = $T/group_map" "qr = no"
groupmap_setup_etc
# sudo asks (no NOPASSWD) and never reuses a success (every sudo is a
# re-authentication).
printf 'Defaults !lecture, timestamp_timeout=0, passwd_tries=1\n%%aadadmins ALL=(ALL) ALL\n' >"$T/etc/sudoers"
e2e_sshd_config "$T"
mkdir -p "$T/run" "$T/mem"
chmod 0700 "$T/run" "$T/mem"

cat >"$T/scenario.sh" <<'SH'
set -eu
. "$top_srcdir/tests/emulator/emu.sh"
. "$top_srcdir/tests/e2e/syslog-lib.sh"
syslog_capture "$T/syslog"
# Whatever ends the scenario, nothing it started outlives it.
stop_all() {
    tmux -S "$T/tmux.sock" kill-server 2>/dev/null || true
    [ -s "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2>/dev/null || true
    kill "$SYSLOG_CAPTURE_PID" 2>/dev/null || true
}
trap stop_all EXIT
# runtime_dir in memory, as /run is on a real host; $T/mem holds the
# test's own copies of the tokens (never on disk either).
mount -t tmpfs -o mode=0700,size=4m tmpfs "$T/run"
mount -t tmpfs -o mode=0700,size=4m tmpfs "$T/mem"
# sshd started from an administrator's login session (an audit session of
# its own), as by hand on a real host: a login's sign-in must be bound to
# the login's new session, not to the one sshd inherited.
sh -c "echo 0 >/proc/self/loginuid 2>/dev/null; . '$T/sshd_start.sh'"
SSHD_SID=$(cat "/proc/$(cat "$T/sshd.pid")/sessionid")
. "$top_srcdir/tests/e2e/screen-lib.sh"

rc=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; rc=1; }
stat_of() { emu_ctl GET /control/stats | jq -r "$1"; }
device_codes() { stat_of .requests.devicecode; }
refreshes() { stat_of .grants.refresh_token.requests; }
reset_counts() { emu_ctl POST /control/stats/reset >/dev/null; }
records() { ls "$T/run/sessions" 2>/dev/null | grep -v '^\.' || true; }
has_record() { records | grep -qx "$1-$E2E_UID"; }
# member GROUP-IDS: the user's groups in Entra now (a refresh's groups claim).
member() { emu_ctl POST /control/graph/members "{\"oid\":\"$EMU_DEFAULT_OID\",\"groups\":[$1]}" >/dev/null; }
ADMINS="\"$ADMINS_GROUP_ID\""
PROMPT="Press Enter once you have signed in:"
SSH="ssh -p $SSHD_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null $E2E_USER@127.0.0.1"

# approve_on_screen: the user signs in on the phone, a member of the group.
approve_on_screen() {
    emu_ctl POST /control/approve "{\"user_code\":\"$(code_on_screen)\",\"claims\":{\"preferred_username\":\"$E2E_UPN\",\"groups\":[$ADMINS]}}" >/dev/null
}

# fresh: a clear screen (so that the next code prompt is not an old one).
fresh() {
    type_line "printf '\\033[H\\033[2J'"
    sleep 0.5
    tm clear-history -t "s$session"
}

# run_marked NAME COMMAND: types COMMAND, then a line that says its exit
# status; waits for it (the marker is spelled apart in what is typed, so
# only the output matches). Sets RC.
run_marked() {
    type_line "$2; echo \"RC=\$?\" M\"ARK\"_$1"
    if wait_for "MARK_$1" "${3:-40}"; then
        RC=$(screen | sed -n "s/.*RC=\([0-9]*\) MARK_$1.*/\1/p" | tail -1)
    else
        RC=none
    fi
}

# sign_in N COMMAND: terminal N runs COMMAND (ssh or login), which shows a
# code; the user signs in; the shell says its audit session (SID) and pid.
sign_in() {
    terminal "$1" "$2"
    if ! wait_for "$PROMPT" 60; then
        show "terminal-$1-no-code"
        bad "terminal $1: no code on screen"
        return 1
    fi
    approve_on_screen
    press_enter "$PROMPT"
    sleep 1
    run_marked "login$1" 'echo "SID=$(cat /proc/self/sessionid) PID=$$ GROUPS=$(id -Gn | tr " " ,)"'
    SID=$(screen | sed -n 's/^SID=\([0-9]*\) .*/\1/p' | tail -1)
    SHELL_PID=$(screen | sed -n 's/^SID=.* PID=\([0-9]*\) .*/\1/p' | tail -1)
    GROUPS_NOW=$(screen | sed -n 's/^SID=.* GROUPS=\([^ ]*\).*/\1/p' | tail -1)
    [ -n "$SID" ] || { show "terminal-$1-no-shell"; bad "terminal $1: no shell after the sign-in"; return 1; }
}

# log_out: the shell exits; pam_close_session runs in sshd or login.
log_out() {
    type_line exit
    wait_for SESSION-ENDED 20 || true
    for _i in $(seq 50); do has_record "$1" || return 0; sleep 0.2; done
    return 1
}

# ---- the login: a device-code sign-in over ssh
member "$ADMINS"
sign_in 1 "$SSH" || exit 1
show "1-ssh-login-then-shell"
if [ "$SID" = 4294967295 ]; then
    echo "SKIP: this host gives logins no audit session ID (pam_loginuid), so no session keeps a sign-in"
    exit 77
fi
S1=$SID S1_PID=$SHELL_PID
case ",$GROUPS_NOW," in *,aadadmins,*) ok "the login's groups: $GROUPS_NOW" ;; *) bad "no aadadmins after the login: $GROUPS_NOW" ;; esac
if has_record "$S1" && ! has_record "$SSHD_SID"; then
    ok "the login keeps its sign-in for its own audit session $S1 (sshd runs in $SSHD_SID): $(records | tr '\n' ' ')"
else
    bad "no session record for $S1: $(records | tr '\n' ' ')"
fi

# ---- sudo_in_the_session_refreshes_silently
fresh
reset_counts
run_marked sudo1 "sudo id -u"
show "2-sudo-in-the-signed-in-session"
dc=$(device_codes) rt=$(refreshes)
if [ "$RC" = 0 ] && [ "$dc" = 0 ] && [ "$rt" = 1 ] && ! screen | grep -q "Code\|Entra"; then
    ok "sudo_in_the_session_refreshes_silently: exit 0, $dc device-code requests, $rt refresh grant"
else
    bad "sudo in the session: exit $RC, $dc device-code requests, $rt refresh grants"
fi

# ---- the_token_is_on_no_disk_log_environment_or_descriptor
emu_ctl GET /control/refresh | jq -r '.refresh_tokens[].refresh_token' >"$T/mem/tokens"
if grep -qF -f "$T/mem/tokens" "$T/run/sessions/$S1-$E2E_UID"; then
    ok "the store holds a refresh token the emulator issued ($(wc -l <"$T/mem/tokens") issued so far)"
else
    bad "the store holds no token the emulator knows: the secrecy checks would prove nothing"
fi
on_disk=$(grep -rlF -D skip -f "$T/mem/tokens" --exclude-dir=run --exclude-dir=mem \
    --exclude-dir=host-dev "$T" 2>/dev/null || true)
[ -z "$on_disk" ] && ok "no token in any file under $T (cache, etc, logs)" || bad "tokens on disk: $on_disk"
if grep -qF -f "$T/mem/tokens" "$T/syslog"; then
    bad "a token was logged"
elif grep -q "session sign-in kept for audit session $S1" "$T/syslog"; then
    ok "syslog ($(grep -o 'pam_aad(' "$T/syslog" | wc -l) messages of pam_aad) holds no token, and says: $(grep -o "session sign-in kept for audit session $S1[^<]*" "$T/syslog" | head -1)"
else
    bad "the capture of syslog missed pam_aad's messages: $(tail -c 600 "$T/syslog")"
fi
if tr '\0' '\n' <"/proc/$S1_PID/environ" | grep -qF -e PAM_AAD -f "$T/mem/tokens"; then
    bad "the shell's environment holds pam_aad's state: $(tr '\0' '\n' <"/proc/$S1_PID/environ" | grep PAM_AAD)"
else
    ok "the shell's environment ($(tr '\0' '\n' <"/proc/$S1_PID/environ" | wc -l) variables) holds no token and no handle"
fi
fds=$(for f in /proc/"$S1_PID"/fd/*; do readlink "$f"; done | sort -u | tr '\n' ' ')
case "$fds" in
*"$T/run"* | *"$T/cache"*) bad "the shell holds a descriptor of pam_aad's files: $fds" ;;
*) ok "the shell's descriptors: $fds" ;;
esac

# ---- the_user_cannot_read_the_store
run_marked read "cat $T/run/sessions/$S1-$E2E_UID"
show "3-the-user-reads-the-store"
if [ "$RC" != 0 ] && screen | grep -q "Permission denied"; then
    ok "the_user_cannot_read_the_store: Permission denied"
else
    bad "the user read the store (exit $RC)"
fi

# ---- a second session: aad_login_sessions_lists_and_drops, a_second_session_cannot_use_the_first_sign_in
sign_in 2 "$SSH" || exit 1
S2=$SID
has_record "$S2" && ok "a second ssh login keeps its own sign-in (session $S2)" || bad "no record for $S2"
terminal 9 "$builddir/tools/aad-login sessions --config $T/pam_aad.conf"
expect_screen "4-aad-login-sessions" "SESSION-ENDED"
screen | grep -q "^$S1 .* yes  *$E2E_UPN" && screen | grep -q "^$S2 .* yes  *$E2E_UPN" &&
    ok "aad-login sessions lists sessions $S1 and $S2" || bad "aad-login sessions does not list both"
terminal 10 "$builddir/tools/aad-login sessions --config $T/pam_aad.conf --drop $S2"
expect_screen "5-aad-login-sessions-drop" "Dropped the sign-in of session $S2 ($E2E_USER)."
has_record "$S2" && bad "session $S2 still has its record after --drop" || ok "aad_login_sessions_lists_and_drops"
terminal 2
fresh
reset_counts
type_line "sudo id -u; echo \"RC=\$?\" M\"ARK\"_sudo2"
if wait_for "$PROMPT" 60; then
    show "6-second-session-without-its-sign-in-asks-for-a-code"
    dc=$(device_codes) rt=$(refreshes)
    [ "$rt" = 0 ] && [ "$dc" -ge 1 ] &&
        ok "a_second_session_cannot_use_the_first_sign_in: a device code ($dc request), no refresh" ||
        bad "session $S2: $dc device-code requests, $rt refreshes"
    approve_on_screen
    press_enter "$PROMPT"
    wait_for MARK_sudo2 40 || true
    screen | grep -q "RC=0 MARK_sudo2" && has_record "$S2" &&
        ok "the device-code sudo in session $S2 succeeds and renews its sign-in" ||
        bad "the device-code sudo in $S2 failed: $(screen | tail -5)"
else
    show "6-FAILED"
    bad "sudo in the second session showed no code"
fi
log_out "$S2" && ok "logout_removes_the_session_sign_in (session $S2: $(records | tr '\n' ' '))" ||
    bad "session $S2's record outlived its logout"

# ---- removed_from_the_group_is_refused_and_the_membership_is_gone
terminal 1
member ""
fresh
reset_counts
run_marked sudo3 "sudo id -u"
show "7-sudo-after-removal-from-the-entra-group"
dc=$(device_codes) rt=$(refreshes)
if [ "$RC" != 0 ] && screen | grep -q "Your access to this host changed; log in again." &&
    [ "$dc" = 0 ] && [ "$rt" = 1 ]; then
    ok "the next sudo is refused after one refresh, with no device code"
else
    bad "sudo after the removal: exit $RC, $dc device codes, $rt refreshes"
fi
if grep -q "^aadadmins:.*$E2E_USER" /etc/group /etc/gshadow; then
    bad "aadadmins still lists $E2E_USER"
else
    ok "removed_from_the_group_is_refused_and_the_membership_is_gone (/etc/group, /etc/gshadow)"
fi
/usr/sbin/grpck -r /etc/group /etc/gshadow || bad "grpck -r"
log_out "$S1" && ok "logout removes session $S1's sign-in" || bad "session $S1's record outlived its logout"

# ---- a third session: 70043, reauth_max_age, 50057
member "$ADMINS"
sign_in 3 "$SSH" || exit 1
S3=$SID
emu_ctl POST /control/refresh '{"aadsts":70043}' >/dev/null
fresh
reset_counts
type_line "sudo id -u; echo \"RC=\$?\" M\"ARK\"_sudo4"
if wait_for "$PROMPT" 60; then
    show "8-sign-in-frequency-asks-for-a-new-sign-in"
    screen | tr '\n' ' ' | tr -s ' ' | grep -qF "This session's sign-in needs renewing: the organization's sign-in frequency policy asks for a new sign-in (AADSTS70043)." &&
        [ "$(refreshes)" = 1 ] &&
        ok "sign_in_frequency_runs_the_device_flow_with_its_sentence" ||
        bad "no sentence for AADSTS70043, or $(refreshes) refreshes"
    approve_on_screen
    press_enter "$PROMPT"
    wait_for MARK_sudo4 40 || true
    screen | grep -q "RC=0 MARK_sudo4" && ok "... and the new sign-in succeeds" || bad "the sudo after 70043 failed"
else
    show "8-FAILED"
    bad "sign-in frequency: no code"
fi

echo "reauth_max_age = 2" >>"$T/pam_aad.conf"
sleep 3
fresh
reset_counts
type_line "sudo id -u; echo \"RC=\$?\" M\"ARK\"_sudo5"
if wait_for "$PROMPT" 60; then
    show "9-reauth-max-age-passed"
    [ "$(refreshes)" = 0 ] && ! screen | grep -q "needs renewing" &&
        ok "reauth_max_age_passed_runs_the_device_flow (no refresh tried)" ||
        bad "after reauth_max_age: $(refreshes) refreshes"
    approve_on_screen
    press_enter "$PROMPT"
    wait_for MARK_sudo5 40 || true
else
    show "9-FAILED"
    bad "reauth_max_age passed: no code"
fi
sed -i '/^reauth_max_age = 2$/d' "$T/pam_aad.conf"

emu_ctl POST /control/refresh '{"aadsts":50057}' >/dev/null
fresh
reset_counts
run_marked sudo6 "sudo id -u"
show "10-account-disabled"
if [ "$RC" != 0 ] && screen | tr '\n' ' ' | tr -s ' ' | grep -qF "Microsoft Entra ID no longer accepts this session's sign-in: the account is disabled (AADSTS50057). Log in again." &&
    [ "$(device_codes)" = 0 ] && ! has_record "$S3"; then
    ok "disabled_account_is_refused_and_the_sign_in_forgotten"
else
    bad "account disabled: exit $RC, $(device_codes) device codes, records: $(records | tr '\n' ' ')"
fi
log_out "$S3" || true

# ---- login_then_sudo_works_the_same: login(1) on a terminal of its own.
# sudo calls PAM silently (PAM_SILENT): the module shows nothing on
# success, so the screen holds the command's output alone.
sign_in 4 "login $E2E_USER" || exit 1
S4=$SID
has_record "$S4" && ok "login(1) keeps its sign-in (session $S4)" || bad "login(1): no record for $S4"
fresh
reset_counts
run_marked sudo7 "sudo id -u"
show "11-login-then-sudo"
if [ "$RC" = 0 ] && [ "$(device_codes)" = 0 ] && [ "$(refreshes)" = 1 ] &&
    [ "$(screen | grep -v '^ *$' | grep -vc 'sudo id -u\|^0\|MARK_sudo7\|^\$')" = 0 ]; then
    ok "login_then_sudo_works_the_same (the screen shows only the command's output)"
else
    bad "login then sudo: exit $RC, $(device_codes) device codes, $(refreshes) refreshes"
fi
log_out "$S4" && ok "logout from login(1) removes its sign-in" || bad "session $S4's record outlived logout"
[ -z "$(records)" ] && ok "the store is empty once everyone logged out" || bad "records left: $(records)"

[ "$fails" = 0 ] || rc=1
exit $rc
SH
export T AUTHORITY CA_FILE CONTROL_URL top_srcdir E2E_UPN E2E_USER E2E_UID SSHD_PORT ADMINS_GROUP_ID EMU_DEFAULT_OID
builddir=$(cd "$builddir" && pwd)
export builddir
rc=0
groupmap_in_namespace "$T/scenario.sh" || rc=$?
if [ "$rc" = 0 ]; then
    echo "PASS: a session signed in once answers sudo with one silent refresh Entra ID checks"
elif [ "$rc" != 77 ]; then
    echo "--- sshd log"; tail -30 "$T/sshd.log" || true
fi
exit "$rc"
