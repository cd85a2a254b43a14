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
#   runtime_dir in memory or not, off with 0).
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

[ "$rc" = 0 ] && echo "PASS: aad-login --check names each mistake with its own hint"
exit "$rc"
