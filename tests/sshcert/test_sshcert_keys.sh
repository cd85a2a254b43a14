#!/bin/sh
# test_sshcert_keys.sh - `aad-login ssh` against the emulator, then
# pam_aad_sshkeys run exactly as sshd runs it (config, %u %t %k) on the
# certificate it wrote and on hostile variants. Each refusal prints nothing
# (sshd then refuses the key) and leaves one log line with its reason.
# Exit: 0 pass, 1 fail, 99 hard error (no emulator).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
AAD_LOGIN="$builddir/tools/aad-login"
KEYS="$builddir/sshkeys/pam_aad_sshkeys"
FORGE="$builddir/tests/sshcert/sshcert_forge"
. "$top_srcdir/tests/emulator/emu.sh"
command -v jq >/dev/null || { echo "SKIP: jq is missing"; exit 77; }

rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

emu_start --lifetime 300 --quiet || exit 99
W=$(mktemp -d "${TMPDIR:-/tmp}/sshcert-test.XXXXXX")
trap 'emu_stop || true; rm -rf "$W"' EXIT INT TERM
# nobody: an account every Debian system has, named by a user_map line.
(umask 022 && printf 'nobody nobody@%s\n' "$DOMAIN" >"$W/user_map")
emu_write_config "$W/pam_aad.conf" "cache_dir = $W/cache" "user_map = $W/user_map" "timeout = 30"
printf '#!/bin/sh\nexec curl -s -o /dev/null --noproxy "*" -m 20 --cacert "$CA_FILE" -L "$1"\n' \
    >"$W/browser"
chmod 755 "$W/browser"
export CA_FILE
OTHER_GUID=0b6f7a1c-2d3e-4f50-8a9b-c0d1e2f3a4b5

# sign_in NAME CLAIMS: the browser signs in with these claims; aad-login ssh
# writes $W/NAME, NAME.pub, NAME-cert.pub.
sign_in() {
    emu_ctl POST /control/browser "{\"mode\":\"approve\",\"claims\":$2}" >/dev/null
    "$AAD_LOGIN" ssh --config "$W/pam_aad.conf" --key "$W/$1" --browser "$W/browser" \
        </dev/null >"$W/$1.client" 2>&1 || { fail "aad-login ssh for $1: $(cat "$W/$1.client")"; return 1; }
}

# keys USER BLOB [SETTING...]: pam_aad_sshkeys as sshd runs it.
keys() {
    _u=$1 _b=$2
    shift 2
    "$KEYS" "config=$W/pam_aad.conf" "$@" "$_u" ssh-ed25519-cert-v01@openssh.com "$_b" \
        >"$W/out" 2>"$W/log"
}
blob() { cut -d' ' -f2 "$W/$1-cert.pub"; }
forge() { ASAN_OPTIONS=detect_leaks=0 "$FORGE" "$@"; }

# expect_refused NAME REASON: no output, one log line with REASON.
expect_refused() {
    if [ ! -s "$W/out" ] && [ "$(grep -c 'refused certificate' "$W/log")" = 1 ] &&
        grep -qF -- "$2" "$W/log"; then
        ok "$1: $(sed 's/^[^:]*: //' "$W/log" | cut -c1-150)"
    else
        fail "$1 (output: $(cat "$W/out"); log: $(cat "$W/log"))"
    fi
}

UPN="nobody@$DOMAIN"
sign_in good "{\"preferred_username\":\"$UPN\"}" || exit 1

# --- a_good_certificate_is_accepted_with_its_own_key_as_authority --------------
keys nobody "$(blob good)"
expected="cert-authority,principals=\"4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71\" $(cut -d' ' -f1,2 "$W/good.pub")"
if [ "$(cat "$W/out")" = "$expected" ] && grep -q "accepted certificate for nobody: upn=$UPN" "$W/log"; then
    ok "a_good_certificate_is_accepted_with_its_own_key_as_authority"
else
    fail "a_good_certificate_is_accepted (output: $(cat "$W/out"); log: $(cat "$W/log"))"
fi

# --- a_warm_cache_makes_no_https_request ---------------------------------------
emu_ctl POST /control/stats/reset >/dev/null
keys nobody "$(blob good)"
requests=$(emu_ctl GET /control/stats | jq '[.requests[]] | add')
if [ -s "$W/out" ] && [ "$requests" = 0 ]; then
    ok "a_warm_cache_makes_no_https_request"
else
    fail "a_warm_cache_makes_no_https_request ($requests requests)"
fi

# --- the certificate's own faults --------------------------------------------
keys nobody "$(forge newkey "$W/good" "$W/good-cert.pub")"
expect_refused a_key_that_the_nonce_does_not_commit_to_is_refused "nonce does not commit"
keys nobody "$(forge resign "$W/good" "$W/good-cert.pub")"
expect_refused a_certificate_resigned_by_another_key_is_refused "signed by another key"
keys nobody "$(forge tamper "$W/good" "$W/good-cert.pub")"
expect_refused a_tampered_token_extension_is_refused "signature does not verify"
keys nobody "$(forge keyid "$W/good" "$W/good-cert.pub" mallory@contoso.example)"
expect_refused a_key_id_that_is_not_the_token_user_is_refused "key ID 'mallory@contoso.example'"
keys nobody "$(forge expired "$W/good" "$W/good-cert.pub")"
expect_refused an_expired_certificate_is_refused "is not valid now"
keys nobody "$(head -c 60000 /dev/zero | tr '\0' A)"
expect_refused an_oversized_certificate_is_refused "too long"

# --- the token's faults: each a sign-in the emulator makes so ----------------
sign_in tenant "{\"preferred_username\":\"$UPN\",\"tid\":\"$OTHER_GUID\"}" &&
    keys nobody "$(blob tenant)" && expect_refused a_token_from_another_tenant_is_refused "token tenant is not"
sign_in app "{\"preferred_username\":\"$UPN\",\"aud\":\"$OTHER_GUID\"}" &&
    keys nobody "$(blob app)" && expect_refused a_token_for_another_app_is_refused "audience is not this application"
sign_in access "{\"preferred_username\":\"$UPN\",\"scp\":\"User.Read\"}" &&
    keys nobody "$(blob access)" && expect_refused an_access_token_is_refused "an access token, not an ID token"
sign_in old "{\"preferred_username\":\"$UPN\",\"iat\":\"now-4000\"}" &&
    keys nobody "$(blob old)" && expect_refused a_token_older_than_cert_max_age_is_refused "more than cert_max_age (3600 s)"
keys nobody "$(blob good)" cert_max_age=60
if [ -s "$W/out" ]; then ok "a_fresh_token_passes_a_short_cert_max_age"; else fail "a_fresh_token_passes_a_short_cert_max_age: $(cat "$W/log")"; fi
sign_in guest "{\"preferred_username\":\"$UPN\",\"acct\":1}" &&
    keys nobody "$(blob guest)" && expect_refused a_guest_is_refused "guest accounts are not accepted"
sign_in groups "{\"preferred_username\":\"$UPN\",\"groups\":[\"$OTHER_GUID\"]}" &&
    keys nobody "$(blob groups)" allowed_groups=11111111-2222-3333-4444-555555555555 &&
    expect_refused a_user_outside_allowed_groups_is_refused "not in any of allowed_groups"
sign_in bob "{\"preferred_username\":\"bob@$DOMAIN\"}" &&
    keys nobody "$(blob bob)" && expect_refused a_upn_of_another_account_is_refused "which is account bob, not nobody"
keys root "$(blob good)"
expect_refused root_is_never_reached_without_allow_root "uid 0 and allow_root is off"
: >"$W/group_map"
keys nobody "$(blob good)" "group_map=$W/group_map"
expect_refused group_map_refuses_certificate_logins "group_map is set"

# --- what is not ours is left alone -------------------------------------------
"$KEYS" "config=$W/pam_aad.conf" nobody ssh-ed25519 "$(cut -d' ' -f2 "$W/good.pub")" >"$W/out" 2>"$W/log"
if [ ! -s "$W/out" ] && [ ! -s "$W/log" ]; then ok "a_plain_key_is_left_to_other_methods"; else fail "a_plain_key_is_left_to_other_methods"; fi
keys nobody "$(forge notoken "$W/good" "$W/good-cert.pub")"
if [ ! -s "$W/out" ] && ! grep -q refused "$W/log"; then ok "a_certificate_without_a_token_is_left_alone"; else fail "a_certificate_without_a_token_is_left_alone: $(cat "$W/log")"; fi

# --- the client explains Entra's refusals ------------------------------------
emu_ctl POST /control/browser '{"aadsts":53003}' >/dev/null
"$AAD_LOGIN" ssh --config "$W/pam_aad.conf" --key "$W/blocked" --browser "$W/browser" </dev/null >"$W/c.out" 2>&1
st=$?
if [ $st = 1 ] && grep -q "53003" "$W/c.out" && grep -qi "polic" "$W/c.out" && [ ! -e "$W/blocked" ]; then
    ok "a_conditional_access_block_is_explained (exit 1, no key written)"
else
    fail "a_conditional_access_block_is_explained (exit $st): $(cat "$W/c.out")"
fi
emu_ctl POST /control/browser '{"mode":"decline"}' >/dev/null
"$AAD_LOGIN" ssh --config "$W/pam_aad.conf" --key "$W/declined" --browser "$W/browser" </dev/null >"$W/c.out" 2>&1
st=$?
if [ $st = 1 ] && grep -qi "declined" "$W/c.out"; then ok "a_declined_sign_in_is_explained"; else fail "a_declined_sign_in_is_explained (exit $st): $(cat "$W/c.out")"; fi

# --- no browser here: the address is pasted back ------------------------------
emu_ctl POST /control/browser '{"mode":"page"}' >/dev/null
mkfifo "$W/paste"
("$AAD_LOGIN" ssh --config "$W/pam_aad.conf" --key "$W/pasted" --no-browser <"$W/paste" >"$W/p.out" 2>&1
 echo $? >"$W/p.rc") &
client=$!
exec 3>"$W/paste"
i=0
while ! grep -q 'oauth2/v2.0/authorize' "$W/p.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(grep -o 'https://[^ ]*authorize[^ ]*' "$W/p.out")
curl -s -o /dev/null --noproxy '*' --cacert "$CA_FILE" "$url"
echo "http://127.0.0.1:1/?code=stolen&state=not-ours" >&3
location=$(emu_ctl POST /control/browser/sign-in "{\"claims\":{\"preferred_username\":\"$UPN\"}}" | jq -r .location)
echo "$location" >&3
exec 3>&-
wait $client
if [ "$(cat "$W/p.rc")" = 0 ] && grep -q "does not belong to this sign-in" "$W/p.out" &&
    keys nobody "$(blob pasted)" && [ -s "$W/out" ]; then
    ok "a_pasted_address_completes_the_sign_in_and_a_stray_one_is_ignored"
else
    fail "pasted address (exit $(cat "$W/p.rc")): $(cat "$W/p.out")"
fi

# --- the emulator refuses a wrong PKCE verifier -------------------------------
emu_ctl POST /control/browser '{"mode":"approve"}' >/dev/null
challenge=$(printf %s "the-right-verifier-the-right-verifier-0123456" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
loc=$(curl -s -o /dev/null -w '%{redirect_url}' --noproxy '*' --cacert "$CA_FILE" \
    "$AUTHORITY/$TENANT_ID/oauth2/v2.0/authorize?client_id=$CLIENT_ID&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F&scope=openid&state=s&nonce=n&code_challenge=$challenge&code_challenge_method=S256")
code=$(printf "%s" "$loc" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
answer=$(emu_https "/$TENANT_ID/oauth2/v2.0/token" -d "grant_type=authorization_code&client_id=$CLIENT_ID&code=$code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F&code_verifier=the-wrong-verifier-the-wrong-verifier-0123456")
if [ -n "$code" ] && printf "%s" "$answer" | jq -e '.error == "invalid_grant" and .error_codes[0] == 501481' >/dev/null; then
    ok "the_emulator_refuses_a_wrong_pkce_verifier"
else
    fail "the_emulator_refuses_a_wrong_pkce_verifier: $answer"
fi

# --- the emulator redirects only to a loopback address -------------------------
page=$(curl -s -w '%{http_code}' --noproxy '*' --cacert "$CA_FILE" \
    "$AUTHORITY/$TENANT_ID/oauth2/v2.0/authorize?client_id=$CLIENT_ID&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2F&scope=openid&state=s&nonce=n&code_challenge=$challenge&code_challenge_method=S256")
case "$page" in
*AADSTS50011*400) ok "the_emulator_refuses_a_redirect_that_is_not_loopback" ;;
*) fail "the_emulator_refuses_a_redirect_that_is_not_loopback: $page" ;;
esac
exit $rc
