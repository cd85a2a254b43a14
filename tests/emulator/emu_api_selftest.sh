#!/bin/sh
# Self-test of the emulator's protected API (emu_api.c) at the HTTP level:
# the device-code access token for api://aad-emulator-api (signed, checked
# with openssl against the JWKS; aud, scp, the answer's scope), GET
# /api/whoami (200, 401 with WWW-Authenticate, 405), Graph refusing the API
# token, an unknown resource (AADSTS500011), withdrawn consent (AADSTS65001)
# and /control/expire (expired_token 70020), every error in the full Entra
# shape. Exit 0 = pass, 1 = fail, 77 = skipped.
set -u

here=$(cd "$(dirname -- "$0")" && pwd)
EMU_SH_DIR=$here
. "$here/emu.sh"

SELFTEST_NAME=emu_api_selftest
. "$here/selftest-lib.sh"

emu_start --lifetime 60 || { echo "FAIL - emulator did not start"; exit 1; }
TOKEN_URL=/$TENANT_ID/oauth2/v2.0/token
DC_URL=/$TENANT_ID/oauth2/v2.0/devicecode
API=api://aad-emulator-api
ERROR_MEMBERS="error,error_description,error_codes,timestamp,trace_id,correlation_id,error_uri"

devicecode() { # devicecode SCOPE OUTFILE → HTTP status
    emu_https "$DC_URL" -o "$2" -w '%{http_code}' --data-urlencode "client_id=$CLIENT_ID" \
        --data-urlencode "scope=$1"
}
poll() { # poll DEVICE_CODE OUTFILE → HTTP status
    emu_https "$TOKEN_URL" -o "$2" -w '%{http_code}' \
        -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$CLIENT_ID&device_code=$1"
}
whoami() { # whoami TOKEN OUTFILE [curl args] → HTTP status; headers in OUTFILE.hdr
    _t=$1 _o=$2
    shift 2
    { [ -n "$_t" ] && printf 'header = "Authorization: Bearer %s"\n' "$_t"; } |
        curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" --config - -D "$_o.hdr" -o "$_o" \
            -w '%{http_code}' "$@" "$AUTHORITY/api/whoami"
}

emu_https "/$TENANT_ID/discovery/v2.0/keys" -o "$T/keys.json"

# ---- a delegated token for the API
check "devicecode with the API's scope: 200" \
    eq "$(devicecode "openid profile $API/Data.Read" "$T/dc.json")" 200
emu_ctl POST /control/approve '{}' >/dev/null
check "token answer: 200" eq "$(poll "$(jqv "$T/dc.json" .device_code)" "$T/tok.json")" 200
check "token answer: scope of the API" eq "$(jqv "$T/tok.json" .scope)" "$API/Data.Read"
at=$(jqv "$T/tok.json" .access_token)
check "access token: RS256 signature verifies with the JWKS key" verify_jws "$at" "$T/keys.json"
printf '%s' "$at" | cut -d. -f2 | b64url_dec >"$T/at.json"
check "access token: aud, scp, iss, oid" \
    eq "$(jqv "$T/at.json" '"\(.aud) \(.scp) \(.iss) \(.oid)"')" \
    "$API Data.Read https://sts.windows.net/$TENANT_ID/ 4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71"
check "whoami: 200 delegated" eq "$(whoami "$at" "$T/w.json")" 200
check "whoami: kind and scp" eq "$(jqv "$T/w.json" '"\(.kind) \(.scp)"')" "delegated Data.Read"
check "Graph refuses the API's token: 401" \
    eq "$(emu_https /graph/v1.0/me/checkMemberGroups -o /dev/null -w '%{http_code}' \
        -H "Content-Type: application/json" -H "Authorization: Bearer $at" \
        -d '{"groupIds":["00000000-0000-0000-0000-000000000001"]}')" 401

# ---- whoami refusals
check "whoami without a bearer: 401" eq "$(whoami "" "$T/w0.json")" 401
check "whoami 401: WWW-Authenticate names the error" \
    eq "$(tr -d '\r' <"$T/w0.json.hdr" | grep -ci '^www-authenticate: Bearer realm="api://aad-emulator-api", error="invalid_token"')" 1
check "whoami 401: error JSON" eq "$(jqv "$T/w0.json" .error)" invalid_token
check "whoami POST: 405" eq "$(whoami "$at" "$T/w1.json" -X POST)" 405
check "whoami with an ID token (another audience): 401" \
    eq "$(whoami "$(jqv "$T/tok.json" .id_token)" "$T/w2.json")" 401
check "whoami: the reason names the audience" \
    eq "$(jqv "$T/w2.json" .error_description)" "the token is for another audience"

# ---- an unknown resource
check "devicecode with an unknown resource: 400" \
    eq "$(devicecode "openid api://unknown-api/Data.Read" "$T/u.json")" 400
check "unknown resource: invalid_resource 500011, full shape" \
    eq "$(jqv "$T/u.json" '"\(.error) \(.error_codes[0]) \(keys_unsorted | join(","))"')" \
    "invalid_resource 500011 $ERROR_MEMBERS"

# ---- consent withdrawn
check "control/api consent false" \
    eq "$(emu_ctl POST /control/api '{"consent":false}' | jq -r .consent)" false
devicecode "openid profile $API/.default" "$T/dc2.json" >/dev/null
emu_ctl POST /control/approve '{}' >/dev/null
dc2=$(jqv "$T/dc2.json" .device_code)
check "no consent: 400 after the approval" eq "$(poll "$dc2" "$T/c.json")" 400
check "no consent: invalid_grant 65001, full shape" \
    eq "$(jqv "$T/c.json" '"\(.error) \(.error_codes[0]) \(keys_unsorted | join(","))"')" \
    "invalid_grant 65001 $ERROR_MEMBERS"
check "no consent: the description starts AADSTS65001:" \
    eq "$(jqv "$T/c.json" '.error_description | startswith("AADSTS65001: The user or administrator has not consented")')" true
check "no consent: the code is used up" \
    eq "$(poll "$dc2" "$T/c2.json") $(jqv "$T/c2.json" '.error_codes[0]')" "400 90120"
emu_ctl POST /control/api '{"consent":true}' >/dev/null

# ---- an expired code
devicecode "openid profile" "$T/dc3.json" >/dev/null
check "control/expire: the pending code" \
    eq "$(emu_ctl POST /control/expire '{}' | jq -r .state)" expired
check "expired code: expired_token 70020" \
    eq "$(poll "$(jqv "$T/dc3.json" .device_code)" "$T/e.json") $(jqv "$T/e.json" '"\(.error) \(.error_codes[0])"')" \
    "400 expired_token 70020"
check "control/expire without a pending code: 404" \
    eq "$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -X POST -d '{}' "$CONTROL_URL/control/expire")" 404

[ "$failures" = 0 ] && echo "PASS: the emulator's protected API" || echo "FAIL: $failures check(s)"
[ "$failures" = 0 ]
