#!/bin/sh
# test_aad_check.sh - `aad-login --check` against the emulator: each mistake
# an administrator makes fails with its own cause and hint, and the exit
# code says configuration (4) or outage (3):
#   a_good_setup_passes: exit 0, the device code never shown;
#   wrong_client_id_is_a_configuration_error (AADSTS700016, cause client_id);
#   wrong_tenant_is_a_configuration_error (AADSTS90002, cause tenant);
#   quoted_domain_is_refused ("values take no quotes", file:line);
#   missing_ca_file_is_named (the path in the message);
#   unreachable_authority_is_an_outage (exit 3, cause unreachable);
#   unsafe_helper_is_a_configuration_error (the module's own checks);
#   short_login_grace_time_is_a_configuration_error (sshd -T -f FILE);
#   certificate_logins_are_checked_when_configured (AuthorizedKeysCommand);
#   login_failures_get_the_cause_hint_too (a closed stdin, a wrong client id);
#   json_is_one_document_for_monitoring (jq reads result, cause, aadsts);
#   session_signin_setting_is_reported (reauth_max_age, audit sessions,
#   runtime_dir in memory or not, off with 0);
#   domain_of_no_tenant_is_a_configuration_error (AADSTS90002, cause domains);
#   host_clock_ten_minutes_behind_is_a_configuration_error (libfaketime: a
#     faked clock; 90 s is a warning; a login names the clock, no epochs);
#   group_map_lines_are_checked (missing group, gid 0 without allow_root);
#   wrong_ca_file_is_a_configuration_error_naming_the_file (exit 4, not an
#     outage, no libcurl words);
#   included_pam_stack_counts (pam-auth-update's common-auth, via @include);
#   public_client_flows_are_named_as_not_checked (AADSTS7000218);
#   check_codes_are_never_approved_by_the_stand_in_user (a login after a
#     --check gets the auto-approval).
# Exit: 0 pass, 1 fail, 77 skip (no jq), 99 hard error (no emulator).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
tool="$builddir/tools/aad-login"
helper=$(cd "$builddir" && pwd)/helper/pam_aad_helper
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
. "$top_srcdir/tests/emulator/emu.sh"
emu_start --lifetime 120 --interval 0 --quiet || exit 99
T=$(mktemp -d "${TMPDIR:-/tmp}/aad-check-test.XXXXXX")
trap 'emu_stop || true; rm -rf "$T"' EXIT INT TERM
emu_write_config "$T/good.conf" "cache_dir = $T/cache" "allowed_roles = Linux.Login"

rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

# check NAME WANT_EXIT CONF [ARGS...]: runs --check (text, then --json), output in $T/NAME.{out,json}.
check() {
    name=$1 want=$2 conf=$3
    shift 3
    got=0
    "$tool" --check --config "$conf" -o "helper=$helper" "$@" </dev/null >"$T/$name.out" 2>&1 || got=$?
    jgot=0
    "$tool" --check --json --config "$conf" -o "helper=$helper" "$@" </dev/null >"$T/$name.json" 2>"$T/$name.jerr" || jgot=$?
    if [ "$got" != "$want" ] || [ "$jgot" != "$want" ]; then
        fail "$name: exit $got (text) and $jgot (json), expected $want: $(cat "$T/$name.out")"
        return 1
    fi
    jq -e . "$T/$name.json" >/dev/null || { fail "$name: --json is not one JSON document"; return 1; }
    return 0
}

# has NAME PATTERN: the text output matches the grep pattern.
has() {
    grep -q -- "$2" "$T/$1.out" || { fail "$1: no '$2' in: $(cat "$T/$1.out")"; return 1; }
}

# cause NAME CHECK CAUSE [AADSTS]: the JSON has that check failing for that cause.
cause() {
    filter=".checks[] | select(.check == \"$2\" and .result == \"fail\" and .cause == \"$3\")"
    [ -n "${4:-}" ] && filter="$filter | select(.aadsts == $4)"
    jq -e "$filter" "$T/$1.json" >/dev/null ||
        { fail "$1: no failing '$2' check with cause $3 ${4:-}: $(cat "$T/$1.json")"; return 1; }
}

# --- a_good_setup_passes ---------------------------------------------------------
if check good 0 "$T/good.conf"; then
    if has good "^ok   device code request" && has good "^ok   signing keys" &&
        has good "^ok   helper" && has good "^info not checked: Conditional Access" &&
        ! grep -qi "user_code\|enter the code\|/device" "$T/good.out"; then
        ok "a_good_setup_passes"
    fi
fi

# --- wrong_client_id_is_a_configuration_error -------------------------------------
if check client 4 "$T/good.conf" -o client_id=0b2f6e4c-1a3d-4c5e-9f70-8192a3b4c5d6; then
    has client "AADSTS700016" && has client "Configuration: Tenant .* has no application" &&
        cause client "device code request" client_id 700016 &&
        ok "wrong_client_id_is_a_configuration_error"
fi

# --- wrong_tenant_is_a_configuration_error ------------------------------------------
if check tenant 4 "$T/good.conf" -o tenant=00000000-1111-4222-8333-444444444444; then
    has tenant "AADSTS90002" && has tenant "Configuration: Entra ID at .* knows no tenant" &&
        cause tenant "device code request" tenant 90002 &&
        ok "wrong_tenant_is_a_configuration_error"
fi

# --- quoted_domain_is_refused -------------------------------------------------------
emu_write_config "$T/quoted.conf" 'domains = "contoso.example"' "cache_dir = $T/cache"
if check quoted 4 "$T/quoted.conf"; then
    has quoted "$T/quoted.conf:6: values take no quotes: write domains = contoso.example" &&
        has quoted "Configuration: Fix the file and line" &&
        cause quoted configuration configuration_file &&
        ok "quoted_domain_is_refused"
fi

# --- missing_ca_file_is_named -------------------------------------------------------
if check ca 4 "$T/good.conf" -o "ca_file=$T/no-such-ca.pem"; then
    has ca "FAIL configuration.*$T/no-such-ca.pem" && cause ca configuration configuration_file &&
        ok "missing_ca_file_is_named"
fi

# --- unreachable_authority_is_an_outage ---------------------------------------------
# A closed port on loopback: refused at once.
if check down 3 "$T/good.conf" -o authority=https://127.0.0.1:1 -o http_timeout=2; then
    has down "Outage: No usable answer from https://127.0.0.1:1 within http_timeout (2 s)" &&
        cause down "device code request" unreachable &&
        ok "unreachable_authority_is_an_outage"
fi

# --- unsafe_helper_is_a_configuration_error -----------------------------------------
cp "$helper" "$T/helper" && chmod 0777 "$T/helper"
got=0
"$tool" --check --config "$T/good.conf" -o "helper=$T/helper" >"$T/helper.out" 2>&1 || got=$?
if [ "$got" = 4 ] && has helper "FAIL helper: helper $T/helper is writable by group or others" &&
    has helper "Configuration: Reinstall libpam-aad"; then
    ok "unsafe_helper_is_a_configuration_error"
elif [ "$got" != 4 ]; then
    fail "unsafe_helper_is_a_configuration_error: exit $got: $(cat "$T/helper.out")"
fi

# --- short_login_grace_time_is_a_configuration_error ---------------------------------
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
    echo "skip: short_login_grace_time_is_a_configuration_error (needs root and openssh-server)"
else
    mkdir -p /run/sshd # sshd -T wants its privilege-separation directory (systemd makes it)
    ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
    for grace in 60 600; do
        printf 'HostKey %s\nUsePAM yes\nKbdInteractiveAuthentication yes\nLoginGraceTime %s\n' \
            "$T/host_key" "$grace" >"$T/sshd_config.$grace"
    done
    # The default timeout (300 s) and http_timeout (10 s): a login may take 390 s.
    if check grace 4 "$T/good.conf" --sshd-config "$T/sshd_config.60"; then
        has grace "FAIL sshd LoginGraceTime: LoginGraceTime 60 s is shorter than a login may take (390 s" &&
            has grace "Configuration: Set 'LoginGraceTime 390' (or more)" &&
            has grace "^ok   sshd keyboard-interactive" &&
            cause grace "sshd LoginGraceTime" sshd_logingracetime &&
            jq -e '.sshd.logingracetime == 60 and .sshd.login_bound_s == 390' "$T/grace.json" >/dev/null &&
            ok "short_login_grace_time_is_a_configuration_error"
    fi
    check grace_ok 0 "$T/good.conf" --sshd-config "$T/sshd_config.600" &&
        has grace_ok "^ok   sshd LoginGraceTime: LoginGraceTime 600 s covers a login (up to 390 s)" &&
        ok "a LoginGraceTime above the login bound passes"
fi

# --- certificate_logins_are_checked_when_configured ----------------------------------
# sshd's settings for pam_aad_sshkeys (AuthorizedKeysCommand): a good set
# passes; PubkeyAuthentication off, root as the command's user, a method
# list without publickey alone and group_map each fail with their cause.
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
    echo "skip: certificate_logins_are_checked_when_configured (needs root and openssh-server)"
else
    keys=$(cd "$builddir" && pwd)/sshkeys/pam_aad_sshkeys
    certs() { # FILE PUBKEY USER METHODS
        printf 'HostKey %s\nUsePAM yes\nKbdInteractiveAuthentication yes\nLoginGraceTime 600\n' "$T/host_key" >"$1"
        printf 'PubkeyAuthentication %s\nAuthorizedKeysCommand %s %%u %%t %%k\n' "$2" "$keys" >>"$1"
        printf 'AuthorizedKeysCommandUser %s\nAuthenticationMethods %s\n' "$3" "$4" >>"$1"
    }
    chmod 644 "$T/good.conf"
    certs "$T/certs_good" yes nobody "publickey keyboard-interactive"
    check certs_good 0 "$T/good.conf" -o "cache_dir=$T/nobody-cache" --sshd-config "$T/certs_good" &&
        has certs_good "^ok   sshd certificates: $keys %u %t %k as nobody, PubkeyAuthentication yes, cert_max_age 3600 s" &&
        jq -e '.sshd.certificates.configured and .sshd.certificates.cert_max_age == 3600' "$T/certs_good.json" >/dev/null &&
        ok "certificate_logins_pass_when_sshd_is_set_as_documented"
    certs "$T/certs_bad" no root keyboard-interactive
    : >"$T/group_map"
    if check certs_bad 4 "$T/good.conf" -o "group_map=$T/group_map" --sshd-config "$T/certs_bad"; then
        cause certs_bad "sshd certificates" sshd_pubkey &&
            has certs_bad "AuthorizedKeysCommandUser is root: pam_aad_sshkeys must run as an unprivileged user" &&
            has certs_bad "AuthenticationMethods keyboard-interactive does not let a certificate in alone" &&
            has certs_bad "group_map is set: every certificate login is refused" &&
            ok "certificate_login_mistakes_are_configuration_errors"
    fi
fi

# --- login_failures_get_the_cause_hint_too -------------------------------------------
# A whole login (not --check) ends with the hint for its cause as well: a
# closed standard input is not an outage of Entra ID, nor is a wrong client id.
(umask 022 && printf 'nobody nobody@%s\n' "$DOMAIN" >"$T/users")
emu_write_config "$T/login.conf" "cache_dir = $T/cache" "qr = no" "user_map = $T/users"
got=0
"$tool" --config "$T/login.conf" nobody </dev/null >"$T/stdin.out" 2>&1 || got=$?
if [ "$got" = 3 ] && grep -q "The terminal went away (input closed)" "$T/stdin.out" &&
    ! grep -q "No usable answer" "$T/stdin.out"; then
    ok "a closed standard input gets its own hint"
else
    fail "closed stdin: exit $got: $(cat "$T/stdin.out")"
fi
got=0
"$tool" --config "$T/login.conf" -o client_id=0b2f6e4c-1a3d-4c5e-9f70-8192a3b4c5d6 nobody </dev/null >"$T/client-login.out" 2>&1 || got=$?
if [ "$got" = 4 ] && grep -q "has no application '0b2f6e4c-1a3d-4c5e-9f70-8192a3b4c5d6'" "$T/client-login.out"; then
    ok "a login with a wrong client id gets the client_id hint"
else
    fail "wrong client id login: exit $got: $(cat "$T/client-login.out")"
fi

# --- session_signin_setting_is_reported -------------------------------------------
# The setting, whether the kernel gives audit session IDs, and whether
# runtime_dir is in memory: $T is on whatever TMPDIR is (not a tmpfs here
# is the common case in CI), /dev/shm is a tmpfs wherever it exists.
check session-disk 0 "$T/good.conf" -o "runtime_dir=$T/run" -o reauth_max_age=3600 &&
    has session-disk "reauth_max_age = 3600 s (1 h 00 min): sudo, sudo-i" &&
    if [ -e /proc/self/sessionid ]; then has session-disk "gives logins audit session IDs"; else has session-disk "no audit session IDs"; fi &&
    if [ "$(stat -f -c %T "$T")" = tmpfs ]; then has session-disk "is in memory"; else has session-disk "is not in memory (tmpfs): no session sign-in is kept"; fi &&
    jq -e '.session_signin.on == true and .session_signin.reauth_max_age == 3600' "$T/session-disk.json" >/dev/null &&
    ok "session_signin_setting_is_reported (runtime_dir on $(stat -f -c %T "$T"))"
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    check session-shm 0 "$T/good.conf" -o "runtime_dir=/dev/shm/pam_aad-check-$$/not-yet" &&
        has session-shm "is in memory (tmpfs): session sign-ins are kept there" &&
        ok "a runtime_dir not made yet is judged by the directory above it"
fi
check session-off 0 "$T/good.conf" -o reauth_max_age=0 &&
    has session-off "off (reauth_max_age = 0)" &&
    jq -e '.session_signin.on == false' "$T/session-off.json" >/dev/null &&
    ok "reauth_max_age = 0 is reported as off"

# --- json_is_one_document_for_monitoring ---------------------------------------------
if jq -e '.result == "success" and .config != null and (.mapping.domains | index("contoso.example")) != null
          and .helper.ok == true and (.not_checked | length) > 0
          and ([.checks[] | select(.result == "fail")] | length) == 0' "$T/good.json" >/dev/null &&
    jq -e '.result == "configuration error"' "$T/client.json" >/dev/null &&
    jq -e '.result == "unavailable"' "$T/down.json" >/dev/null; then
    ok "json_is_one_document_for_monitoring"
else
    fail "json_is_one_document_for_monitoring: $(cat "$T/good.json")"
fi

# Ends the codes earlier logins left pending (their users went away): the
# stand-in user armed next takes the next login's code. --check's own codes
# are not among them: the emulator never picks those.
end_stale_logins() {
    n=0
    while [ "$n" -lt 50 ] && emu_ctl POST /control/expire '{}' >/dev/null 2>&1; do n=$((n + 1)); done
}

# --- domain_of_no_tenant_is_a_configuration_error ------------------------------------
if check domains 4 "$T/good.conf" -o "domains=$DOMAIN typo-$DOMAIN"; then
    has domains "^ok   domains: $DOMAIN is a verified domain of tenant $TENANT_ID" &&
        has domains "FAIL domains: typo-$DOMAIN is not a verified domain of any tenant (Entra ID: AADSTS90002)" &&
        has domains "Configuration: Set 'domains' to the verified domains of tenant $TENANT_ID" &&
        cause domains domains domains &&
        ok "domain_of_no_tenant_is_a_configuration_error"
fi

# --- host_clock_ten_minutes_behind_is_a_configuration_error ---------------------------
# libfaketime moves aad-login's clock, not the emulator's: the authority's
# Date header is the real time, as Microsoft's is for a host whose clock drifted.
if [ -z "${LIBFAKETIME:-}" ] || [ ! -r "$LIBFAKETIME" ]; then
    echo "skip: host_clock_ten_minutes_behind_is_a_configuration_error (libfaketime is not installed)"
else
    faked() { # SHIFT CMD...: runs CMD with its clock moved by SHIFT (e.g. -600)
        shift_by=$1
        shift
        LD_PRELOAD="$sanitizer_runtimes$LIBFAKETIME" FAKETIME="$shift_by" FAKETIME_DONT_FAKE_MONOTONIC=1 "$@"
    }
    # A sanitizer build's programs need their runtimes loaded before any
    # preloaded library: ASan refuses to start after libfaketime.
    sanitizer_runtimes=$(ldd "$tool" | sed -n 's/.*lib\(a\|ub\)san[^ ]* => \([^ ]*\).*/\2/p' | tr '\n' ' ')
    # The Date header has whole seconds and is read before this host's
    # clock: a second may tick between the two, on a loaded machine more.
    behind600='\(599\|60[01]\)' behind90='\(89\|9[01]\)'
    got=0
    faked -600 "$tool" --check --config "$T/good.conf" -o "helper=$helper" </dev/null >"$T/clock.out" 2>&1 || got=$?
    if [ "$got" = 4 ] && has clock "FAIL clock: this host's clock is $behind600 s behind Microsoft Entra ID's (clock_skew 300 s)" &&
        has clock "Configuration: Synchronise this host's clock"; then
        ok "host_clock_ten_minutes_behind_is_a_configuration_error"
    else
        fail "clock 600 s behind: exit $got: $(cat "$T/clock.out")"
    fi
    got=0
    faked -90 "$tool" --check --config "$T/good.conf" -o "helper=$helper" </dev/null >"$T/clock90.out" 2>&1 || got=$?
    if [ "$got" = 0 ] && has clock90 "^warn clock: this host's clock is $behind90 s behind"; then
        ok "a clock 90 s behind is a warning"
    else
        fail "clock 90 s behind: exit $got: $(cat "$T/clock90.out")"
    fi
    # A whole login: the token's iat is 600 s in this host's future.
    end_stale_logins
    emu_ctl POST /control/auto-approve "{\"delay_ms\":300,\"claims\":{\"preferred_username\":\"nobody@$DOMAIN\"}}" >/dev/null
    (umask 022 && printf 'nobody nobody@%s\n' "$DOMAIN" >"$T/clock-users")
    emu_write_config "$T/clock-login.conf" "cache_dir = $T/cache" "qr = no" "user_map = $T/clock-users" \
        "wait_for_enter = no" "timeout = 20"
    got=0
    faked -600 "$tool" --config "$T/clock-login.conf" nobody </dev/null >"$T/clock-login.out" 2>&1 || got=$?
    if [ "$got" = 4 ] && grep -q "This host's clock is $behind600 s behind Microsoft's; tell your administrator" "$T/clock-login.out" &&
        ! grep -Eq "[0-9]{10}" "$T/clock-login.out"; then
        ok "a login refused for the token's times names the clock, never epoch numbers"
    else
        fail "clock login: exit $got: $(cat "$T/clock-login.out")"
    fi
fi

# --- group_map_lines_are_checked -----------------------------------------------------
g1=3f1c2a9e-5b7d-4e2f-8a6c-1d9e0b4f7a21 g2=0b8e6d4c-2a1f-4c3e-9d7b-5f6a8e2c1d03
g3=7d2e9c1b-4a6f-4b8d-9e3c-2f1a0d5b6c84
(umask 022 && printf '%s users\n%s aad-no-such-group\n%s root\n' "$g1" "$g2" "$g3" >"$T/groups.map")
if check groupmap 4 "$T/good.conf" -o "group_map=$T/groups.map"; then
    has groupmap "^ok   group_map: $g1 -> users (gid " &&
        has groupmap "FAIL group_map: $g2 -> aad-no-such-group: no local group aad-no-such-group in /etc/group" &&
        has groupmap "Configuration: Create the group first ('groupadd aad-no-such-group')" &&
        has groupmap "FAIL group_map: $g3 -> root: gid 0 (root's group), which pam_aad touches only with allow_root = yes" &&
        cause groupmap group_map group_map_group && cause groupmap group_map group_map_gid0 &&
        ok "group_map_lines_are_checked"
fi

# --- wrong_ca_file_is_a_configuration_error_naming_the_file ---------------------------
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=pam_aad test: another CA" \
    -keyout "$T/other.key" -out "$T/other-ca.pem" -days 2 2>/dev/null
chmod 0644 "$T/other-ca.pem"
if check wrongca 4 "$T/good.conf" -o "ca_file=$T/other-ca.pem"; then
    has wrongca "FAIL device code request.*the server's certificate is not issued by a CA of ca_file $T/other-ca.pem" &&
        has wrongca "Configuration: ca_file $T/other-ca.pem does not hold the CA" &&
        ! grep -q "No usable answer\|SSL peer certificate" "$T/wrongca.out" &&
        cause wrongca "device code request" ca_file &&
        ok "wrong_ca_file_is_a_configuration_error_naming_the_file"
fi

# --- included_pam_stack_counts ----------------------------------------------------------
# Debian's pam-auth-update profile puts pam_aad into common-auth, which
# sshd's file includes.
mkdir -p "$T/pam.d"
printf '#%%PAM-1.0\n@include common-auth\naccount required pam_nologin.so\n' >"$T/pam.d/sshd"
printf 'auth\t[success=2 default=ignore]\tpam_unix.so nullok\nauth\t[success=end default=ignore]\tpam_aad.so\nauth\trequisite\tpam_deny.so\n' >"$T/pam.d/common-auth"
printf 'auth substack common-auth\n' >"$T/pam.d/rhel-sshd"
printf 'auth required pam_unix.so\n# auth sufficient pam_aad.so\n' >"$T/pam.d/plain"
"$tool" --check --config "$T/good.conf" -o "helper=$helper" --sshd-pam "$T/pam.d/sshd" </dev/null >"$T/stack.out" 2>&1
"$tool" --check --config "$T/good.conf" -o "helper=$helper" --sshd-pam "$T/pam.d/rhel-sshd" </dev/null >"$T/substack.out" 2>&1
got=0
"$tool" --check --config "$T/good.conf" -o "helper=$helper" --sshd-pam "$T/pam.d/plain" </dev/null >"$T/plain.out" 2>&1 || got=$?
if ! grep -q "does not use pam_aad" "$T/stack.out" &&
    has stack "sshd PAM stack: $T/pam.d/sshd runs pam_aad (through $T/pam.d/common-auth)" &&
    has substack "sshd PAM stack: $T/pam.d/rhel-sshd runs pam_aad (through $T/pam.d/common-auth)" &&
    [ "$got" = 0 ] && has plain "^skip sshd keyboard-interactive: $T/pam.d/plain does not use pam_aad"; then
    ok "included_pam_stack_counts"
fi

# --- public_client_flows_are_named_as_not_checked ---------------------------------------
has good "^info not checked: 'Allow public client flows'.*(AADSTS7000218)" &&
    ok "public_client_flows_are_named_as_not_checked"

# --- check_codes_are_never_approved_by_the_stand_in_user --------------------------------
# A --check leaves a pending code; the stand-in user armed afterwards must
# approve the login's code, not that one (it did, and the login timed out).
end_stale_logins
"$tool" --check --config "$T/good.conf" -o "helper=$helper" </dev/null >/dev/null 2>&1
emu_ctl POST /control/auto-approve "{\"delay_ms\":200,\"claims\":{\"preferred_username\":\"nobody@$DOMAIN\"}}" >"$T/armed.json"
emu_write_config "$T/stale.conf" "cache_dir = $T/cache" "qr = no" "user_map = $T/users" \
    "wait_for_enter = no" "timeout = 20"
got=0
"$tool" --config "$T/stale.conf" nobody </dev/null >"$T/stale.out" 2>&1 || got=$?
if [ "$got" = 0 ] && jq -e '.scheduled == []' "$T/armed.json" >/dev/null &&
    emu_ctl GET /control/codes | jq -e '[.codes[] | select(.check)] | length > 0 and all(.state == "pending")' >/dev/null; then
    ok "check_codes_are_never_approved_by_the_stand_in_user"
else
    fail "check codes: login exit $got, armed $(cat "$T/armed.json"): $(cat "$T/stale.out")"
fi

[ "$rc" = 0 ] && echo "PASS: aad-login --check names each mistake with its own hint"
exit "$rc"
