#!/bin/sh
# Self-test of the Entra ID emulator: every endpoint, the device-code state
# machine, signatures (checked with openssl against the JWKS), the control
# interface and fault injection. Exit 0 = pass, 1 = fail, 77 = skipped.
set -u

here=$(cd "$(dirname -- "$0")" && pwd)
EMU_SH_DIR=$here
. "$here/emu.sh"

SELFTEST_NAME=emu_selftest
. "$here/selftest-lib.sh"

emu_start --lifetime 120 || { echo "FAIL - emulator did not start"; exit 1; }
echo "# emulator pid $EMU_PID at $AUTHORITY, control $CONTROL_URL"
TOKEN_URL=/$TENANT_ID/oauth2/v2.0/token
DC_URL=/$TENANT_ID/oauth2/v2.0/devicecode
SCOPE='openid%20profile'

# ---- one curl invocation, several URLs: one TLS connection (keep-alive)
emu_ctl POST /control/stats/reset >/dev/null
curl -sS --noproxy '*' --cacert "$CA_FILE" \
    -o "$T/disc.json" "$AUTHORITY/$TENANT_ID/v2.0/.well-known/openid-configuration" \
    -o "$T/disc_dom.json" "$AUTHORITY/$DOMAIN/v2.0/.well-known/openid-configuration" \
    -o "$T/disc_common.json" "$AUTHORITY/common/v2.0/.well-known/openid-configuration" \
    -o "$T/keys.json" "$AUTHORITY/$TENANT_ID/discovery/v2.0/keys" \
    --next --noproxy '*' --cacert "$CA_FILE" -D "$T/dc.hdr" \
    -d "client_id=$CLIENT_ID&scope=$SCOPE" -o "$T/dc.json" "$AUTHORITY$DC_URL"
emu_ctl GET /control/stats >"$T/stats.json"
check "keep-alive: 5 requests over 1 TLS connection" \
    eq "$(jqv "$T/stats.json" '.connections')" 1
check "stats count requests per endpoint" \
    eq "$(jqv "$T/stats.json" '.requests | "\(.discovery) \(.keys) \(.devicecode) \(.token)"')" "3 1 1 0"

# ---- discovery
check "tenant discovery: concrete issuer" \
    eq "$(jqv "$T/disc.json" .issuer)" "$AUTHORITY/$TENANT_ID/v2.0"
check "tenant discovery: jwks_uri" \
    eq "$(jqv "$T/disc.json" .jwks_uri)" "$AUTHORITY/$TENANT_ID/discovery/v2.0/keys"
check "domain discovery: GUID-keyed endpoints" \
    eq "$(jqv "$T/disc_dom.json" '.issuer + " " + .token_endpoint')" \
    "$AUTHORITY/$TENANT_ID/v2.0 $AUTHORITY/$TENANT_ID/oauth2/v2.0/token"
check "common discovery: {tenantid} template" \
    eq "$(jqv "$T/disc_common.json" .issuer)" "$AUTHORITY/{tenantid}/v2.0"
check "discovery: RS256 only" \
    eq "$(jqv "$T/disc.json" '.id_token_signing_alg_values_supported | join(",")')" RS256

# ---- keys
check "JWKS key has exactly the Entra members" \
    eq "$(jqv "$T/keys.json" '.keys[0] | keys_unsorted | join(",")')" "kty,use,kid,x5t,n,e,x5c,issuer"
check "JWKS kid = x5t, e = AQAB, issuer template" \
    eq "$(jqv "$T/keys.json" '.keys[0] | "\(.kid == .x5t) \(.e) \(.issuer)"')" \
    "true AQAB $AUTHORITY/{tenantid}/v2.0"
kid=$(jqv "$T/keys.json" '.keys[0].kid')
sha1=$(jqv "$T/keys.json" '.keys[0].x5c[0]' | base64 -d | openssl dgst -sha1 -binary |
    base64 | tr '+/' '-_' | tr -d '=')
check "kid is base64url SHA-1 of the x5c certificate" eq "$kid" "$sha1"
nbits=$(jqv "$T/keys.json" '.keys[0].x5c[0]' | base64 -d |
    openssl x509 -inform DER -noout -text | sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p')
check "signing key is RSA-2048" eq "$nbits" 2048

# ---- device code
check "devicecode: 9 uppercase letters" \
    eq "$(jqv "$T/dc.json" '.user_code | test("^[A-Z]{9}$")')" true
check "devicecode: member order and values" \
    eq "$(jqv "$T/dc.json" 'keys_unsorted | join(",")') $(jqv "$T/dc.json" '"\(.verification_uri) \(.expires_in) \(.interval)"')" \
    "user_code,device_code,verification_uri,expires_in,interval,message https://login.microsoft.com/device 900 5"
check "devicecode: message names URL and code" \
    eq "$(jqv "$T/dc.json" '.message')" \
    "To sign in, use a web browser to open the page https://login.microsoft.com/device and enter the code $(jqv "$T/dc.json" .user_code) to authenticate."
check "devicecode: JSON, no-store headers" \
    eq "$(tr -d '\r' <"$T/dc.hdr" | grep -ci -e '^content-type: application/json; charset=utf-8$' \
        -e '^cache-control: no-store, no-cache$' -e '^pragma: no-cache$')" 3
device_code=$(jqv "$T/dc.json" .device_code)
user_code=$(jqv "$T/dc.json" .user_code)

poll() { # poll DEVICE_CODE OUTFILE [extra form] → prints HTTP status
    emu_https "$TOKEN_URL" -o "$2" -w '%{http_code}' \
        -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$CLIENT_ID&device_code=$1${3:-}"
}

# ---- pending poll: the full Entra error shape
check "pending poll: HTTP 400" eq "$(poll "$device_code" "$T/p.json")" 400
check "pending poll: error and code" \
    eq "$(jqv "$T/p.json" '"\(.error) \(.error_codes[0])"')" "authorization_pending 70016"
check "error JSON members" \
    eq "$(jqv "$T/p.json" 'keys_unsorted | join(",")')" \
    "error,error_description,error_codes,timestamp,trace_id,correlation_id,error_uri"
check "error_description format" \
    eq "$(jqv "$T/p.json" '.error_description | test("^AADSTS70016: [^\r\n]+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z$")')" true
check "trace/correlation ids and timestamp repeated in the description" \
    eq "$(jqv "$T/p.json" '. as $o | $o.error_description | [contains("Trace ID: " + $o.trace_id), contains("Correlation ID: " + $o.correlation_id), contains("Timestamp: " + $o.timestamp)] | all')" true
check "control/codes lists the pending code" \
    eq "$(emu_ctl GET /control/codes | jq -r --arg u "$user_code" '.codes[] | select(.user_code == $u) | .state')" pending

# ---- approve, redeem
check "control/approve (default: most recent pending)" \
    eq "$(emu_ctl POST /control/approve '{}' | jq -r .state)" approved
check "token poll after approval: HTTP 200" \
    eq "$(poll "$device_code" "$T/tok.json" '&client_info=1')" 200
check "token response members" \
    eq "$(jqv "$T/tok.json" 'keys_unsorted | join(",")')" \
    "token_type,scope,expires_in,ext_expires_in,access_token,id_token,client_info"
idt=$(jqv "$T/tok.json" .id_token)
printf '%s' "$idt" | cut -d. -f1 | b64url_dec >"$T/h.json"
printf '%s' "$idt" | cut -d. -f2 | b64url_dec >"$T/c.json"
check "id_token header" eq "$(jq -c . "$T/h.json")" "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"$kid\"}"
check "id_token claims: aud iss tid ver" \
    eq "$(jqv "$T/c.json" '"\(.aud) \(.iss) \(.tid) \(.ver)"')" \
    "$CLIENT_ID $AUTHORITY/$TENANT_ID/v2.0 $TENANT_ID 2.0"
check "id_token claims: identity, 1 h lifetime, no nonce" \
    eq "$(jqv "$T/c.json" '"\(.preferred_username) \(.name) \(.exp - .iat) \(.iat == .nbf) \(has("nonce")) \(.oid | test("^[0-9a-f-]{36}$"))"')" \
    "alice@$DOMAIN Alice Example 3600 true false true"
check "id_token RS256 signature verifies with the JWKS key" verify_jws "$idt" "$T/keys.json"
check "client_info = {uid: oid, utid: tid}" \
    eq "$(jqv "$T/tok.json" .client_info | b64url_dec | jq -c .)" \
    "{\"uid\":\"$(jqv "$T/c.json" .oid)\",\"utid\":\"$TENANT_ID\"}"
check "device code is single-use" \
    eq "$(poll "$device_code" "$T/p.json") $(jqv "$T/p.json" '"\(.error) \(.error_codes[0])"')" "400 invalid_grant 90120"
check "control/codes shows redeemed" \
    eq "$(emu_ctl GET /control/codes | jq -r --arg u "$user_code" '.codes[] | select(.user_code == $u) | .state')" redeemed

newcode() { # newcode OUTFILE → device code on stdout
    emu_https "$DC_URL" -o "$1" -d "client_id=$CLIENT_ID&scope=${2:-$SCOPE}"
    jqv "$1" .device_code
}

# ---- decline, bad code, bad client, bad tenant, bad grant
dc2=$(newcode "$T/dc2.json")
emu_ctl POST /control/decline "{\"user_code\":\"$(jqv "$T/dc2.json" .user_code)\"}" >/dev/null
check "declined code → authorization_declined" \
    eq "$(poll "$dc2" "$T/p.json") $(jqv "$T/p.json" .error)" "400 authorization_declined"
check "approving a declined code → 409" \
    eq "$(emu_ctl POST /control/approve "{\"user_code\":\"$(jqv "$T/dc2.json" .user_code)\"}" >/dev/null; echo $?)" 1
check "unknown device code → bad_verification_code" \
    eq "$(poll nosuchcode "$T/p.json") $(jqv "$T/p.json" .error)" "400 bad_verification_code"
check "unknown client_id → unauthorized_client (devicecode)" \
    eq "$(emu_https "$DC_URL" -o "$T/p.json" -w '%{http_code}' -d 'client_id=00000000-1111-2222-3333-444444444444&scope=openid') $(jqv "$T/p.json" '"\(.error) \(.error_codes[0])"')" \
    "400 unauthorized_client 700016"
check "missing scope → invalid_request AADSTS900144" \
    eq "$(emu_https "$DC_URL" -o "$T/p.json" -w '%{http_code}' -d "client_id=$CLIENT_ID") $(jqv "$T/p.json" '"\(.error) \(.error_codes[0])"')" \
    "400 invalid_request 900144"
check "unknown tenant → invalid_tenant AADSTS90002" \
    eq "$(emu_https /consumers/v2.0/.well-known/openid-configuration -o "$T/p.json" -w '%{http_code}') $(jqv "$T/p.json" '"\(.error) \(.error_codes[0])"')" \
    "400 invalid_tenant 90002"
check "unsupported grant_type → unsupported_grant_type" \
    eq "$(emu_https "$TOKEN_URL" -o "$T/p.json" -w '%{http_code}' -d "grant_type=password&client_id=$CLIENT_ID") $(jqv "$T/p.json" .error)" \
    "400 unsupported_grant_type"
check "GET on token endpoint → AADSTS900561" \
    eq "$(emu_https "$TOKEN_URL" -o "$T/p.json" -w '%{http_code}') $(jqv "$T/p.json" '.error_codes[0]')" "400 900561"
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
check "request body over 64 KiB → 413" \
    eq "$(emu_https "$TOKEN_URL" -o /dev/null -w '%{http_code}' --data-binary @"$T/big")" 413

# ---- short grant_type spelling, claims/header merge, now±N, sign_with
dc3=$(newcode "$T/dc3.json")
emu_ctl POST /control/approve '{"claims":{"name":null,"groups":["g1"],"exp":"now-600"},"header":{"x5t":"abc"}}' >/dev/null
check "grant_type=device_code accepted" \
    eq "$(emu_https "$TOKEN_URL" -o "$T/tok.json" -w '%{http_code}' -d "grant_type=device_code&client_id=$CLIENT_ID&device_code=$dc3")" 200
jqv "$T/tok.json" .id_token | cut -d. -f2 | b64url_dec >"$T/c.json"
check "claims merged (null removes, now-600 resolved)" \
    eq "$(jqv "$T/c.json" '"\(has("name")) \(.groups[0]) \(.exp < .iat)"')" "false g1 true"
check "header merged" \
    eq "$(jqv "$T/tok.json" .id_token | cut -d. -f1 | b64url_dec | jq -r .x5t)" abc

dc4=$(newcode "$T/dc4.json")
emu_ctl POST /control/approve '{"sign_with":"unknown-key"}' >/dev/null
poll "$dc4" "$T/tok.json" >/dev/null
idt=$(jqv "$T/tok.json" .id_token)
check "sign_with unknown-key: published kid, signature fails" \
    eq "$(printf '%s' "$idt" | cut -d. -f1 | b64url_dec | jq -r .kid) $(verify_jws "$idt" "$T/keys.json" && echo verifies || echo rejected)" \
    "$kid rejected"
dc5=$(newcode "$T/dc5.json")
emu_ctl POST /control/approve '{"sign_with":"none","header":{"alg":"none"}}' >/dev/null
poll "$dc5" "$T/tok.json" >/dev/null
check "sign_with none: empty signature part" \
    eq "$(jqv "$T/tok.json" .id_token | cut -d. -f3)|$(jqv "$T/tok.json" .id_token | cut -d. -f1 | b64url_dec | jq -r .alg)" "|none"
dc6=$(newcode "$T/dc6.json")
emu_ctl POST /control/approve '{"raw_id_token":"not.a.jwt","token_response":{"access_token":null}}' >/dev/null
poll "$dc6" "$T/tok.json" >/dev/null
check "raw_id_token verbatim, token_response merge" \
    eq "$(jqv "$T/tok.json" '"\(.id_token) \(has("access_token"))"')" "not.a.jwt false"
dc7=$(newcode "$T/dc7.json" 'User.Read')
emu_ctl POST /control/approve '{}' >/dev/null
poll "$dc7" "$T/tok.json" >/dev/null
check "no openid scope → no id_token" eq "$(jqv "$T/tok.json" 'has("id_token")')" false

# ---- auto-approve
emu_ctl POST /control/auto-approve '{"delay_ms":1500,"claims":{"name":"Auto"}}' >/dev/null
dc8=$(newcode "$T/dc8.json")
check "auto-approve: pending before the delay" eq "$(poll "$dc8" "$T/p.json")" 400
sleep 1.7
check "auto-approve: approved after the delay" eq "$(poll "$dc8" "$T/tok.json")" 200
check "auto-approve: claims applied" \
    eq "$(jqv "$T/tok.json" .id_token | cut -d. -f2 | b64url_dec | jq -r .name)" Auto
dc9=$(newcode "$T/dc9.json")
check "auto-approve is one-shot by default" eq "$(poll "$dc9" "$T/p.json")" 400

# ---- rotation and JWKS override
old_kid=$kid
new_kid=$(emu_ctl POST /control/rotate '{"keep_old":true}' | jq -r .kid)
emu_https "/$TENANT_ID/discovery/v2.0/keys" -o "$T/keys2.json"
check "rotate keep_old: both keys listed, old first" \
    eq "$(jqv "$T/keys2.json" '[.keys[].kid] | join(" ")')" "$old_kid $new_kid"
emu_ctl POST /control/approve '{}' >/dev/null # approves dc9
poll "$dc9" "$T/tok.json" >/dev/null
idt=$(jqv "$T/tok.json" .id_token)
check "new key signs after rotation" \
    eq "$(printf '%s' "$idt" | cut -d. -f1 | b64url_dec | jq -r .kid) $(verify_jws "$idt" "$T/keys2.json" && echo ok)" "$new_kid ok"
emu_ctl POST /control/rotate '{"keep_old":false}' >/dev/null
check "rotate without keep_old: one key" \
    eq "$(emu_https "/$TENANT_ID/discovery/v2.0/keys" | jq '.keys | length')" 1
emu_ctl POST /control/jwks '{"raw":"{\"keys\":[garbage"}' >/dev/null
check "jwks raw override served verbatim" \
    eq "$(emu_https "/$TENANT_ID/discovery/v2.0/keys")" '{"keys":[garbage'
emu_ctl POST /control/jwks '{"keys":[{"kty":"RSA","kid":"x"}]}' >/dev/null
check "jwks keys override" eq "$(emu_https "/$TENANT_ID/discovery/v2.0/keys" | jq -c .)" '{"keys":[{"kty":"RSA","kid":"x"}]}'
emu_ctl POST /control/jwks '{"reset":true}' >/dev/null
check "jwks reset" eq "$(emu_https "/$TENANT_ID/discovery/v2.0/keys" | jq -r '.keys[0].x5t != null')" true

# ---- faults
dcf=$(newcode "$T/dcf.json")
emu_ctl POST /control/fault '{"endpoint":"token","error":"slow_down"}' >/dev/null
check "fault error=slow_down (Entra JSON, 400)" \
    eq "$(poll "$dcf" "$T/p.json") $(jqv "$T/p.json" '"\(.error) \(.error_description | startswith("AADSTS"))"')" "400 slow_down true"
check "fault applies once by default" \
    eq "$(poll "$dcf" "$T/p.json") $(jqv "$T/p.json" .error)" "400 authorization_pending"
emu_ctl POST /control/fault '{"endpoint":"token","status":429,"headers":{"Retry-After":"2"},"body":"{}"}' >/dev/null
check "fault 429 with Retry-After" \
    eq "$(emu_https "$TOKEN_URL" -D "$T/f.hdr" -o /dev/null -w '%{http_code}' -d x) $(tr -d '\r' <"$T/f.hdr" | sed -n 's/^[Rr]etry-[Aa]fter: //p')" "429 2"
emu_ctl POST /control/fault '{"endpoint":"discovery","status":503,"body":"<html>down</html>","content_type":"text/html","count":2}' >/dev/null
check "fault 503 count=2 (1st)" eq "$(emu_https "/$TENANT_ID/v2.0/.well-known/openid-configuration" -o "$T/f" -w '%{http_code} %{content_type}') $(cat "$T/f")" "503 text/html <html>down</html>"
check "fault 503 count=2 (2nd)" eq "$(emu_https "/$TENANT_ID/v2.0/.well-known/openid-configuration" -o /dev/null -w '%{http_code}')" 503
check "fault exhausted" eq "$(emu_https "/$TENANT_ID/v2.0/.well-known/openid-configuration" -o /dev/null -w '%{http_code}')" 200
emu_ctl POST /control/fault '{"endpoint":"keys","close":true}' >/dev/null
emu_https "/$TENANT_ID/discovery/v2.0/keys" -o /dev/null 2>/dev/null
check "fault close: connection dropped (curl exit 52)" eq "$?" 52
emu_ctl POST /control/fault '{"endpoint":"keys","oversize_bytes":3000000}' >/dev/null
check "fault oversize_bytes" eq "$(emu_https "/$TENANT_ID/discovery/v2.0/keys" -o "$T/big.json" -w '%{http_code} %{size_download}') $(jq -r .error "$T/big.json")" "200 3000000 oversize"
emu_ctl POST /control/fault '{"endpoint":"any","redirect":"https://elsewhere.example/x"}' >/dev/null
check "fault redirect (302 + Location)" \
    eq "$(emu_https "$DC_URL" -o /dev/null -w '%{http_code} %{redirect_url}' -d x)" "302 https://elsewhere.example/x"
emu_ctl POST /control/fault '{"endpoint":"discovery","delay_ms":500}' >/dev/null
check "fault delay_ms (then normal answer)" \
    eq "$(emu_https "/$TENANT_ID/v2.0/.well-known/openid-configuration" -o /dev/null -w '%{http_code} %{time_total}' | awk '{print $1, ($2 >= 0.5)}')" "200 1"
emu_ctl POST /control/fault '{"endpoint":"token","error":"invalid_client","count":-1}' >/dev/null
check "fault invalid_client → 401 AADSTS7000218 (forever)" \
    eq "$(poll "$dcf" "$T/p.json") $(poll "$dcf" "$T/p.json") $(jqv "$T/p.json" '.error_codes[0]')" "401 401 7000218"
emu_ctl POST /control/fault '{"clear":true}' >/dev/null
check "fault clear" eq "$(poll "$dcf" "$T/p.json")" 400
check "bad fault rejected" eq "$(emu_ctl POST /control/fault '{"endpoint":"nope"}' >/dev/null; echo $?)" 1

# ---- shutdown through the control interface
pid=$EMU_PID
dir=$EMU_DIR
emu_ctl POST /control/shutdown >/dev/null
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
wait "$pid" 2>/dev/null
rc=$?
check "control/shutdown: exit status 0" eq "$rc" 0
check "control/shutdown: emulator.env removed" eq "$([ -e "$dir/emulator.env" ] && echo present || echo gone)" gone
emu_stop

# ---- command-line auto-approval, expiry, lifetime
emu_start --lifetime 5 --expires-in 1 --interval 0 \
    --auto-approve-after 0 --approve-claims '{"preferred_username":"demo@contoso.example"}' ||
    { echo "FAIL - second emulator did not start"; exit 1; }
dca=$(newcode "$T/dca.json")
check "--interval 0 / --expires-in 1 honoured" eq "$(jqv "$T/dca.json" '"\(.interval) \(.expires_in)"')" "0 1"
check "--auto-approve-after 0: approved at once" eq "$(poll "$dca" "$T/tok.json")" 200
check "--approve-claims applied" \
    eq "$(jqv "$T/tok.json" .id_token | cut -d. -f2 | b64url_dec | jq -r .preferred_username)" demo@contoso.example
emu_ctl POST /control/auto-approve '{"cancel":true}' >/dev/null
dcb=$(newcode "$T/dcb.json")
sleep 1.2
check "expired code → expired_token" eq "$(poll "$dcb" "$T/p.json") $(jqv "$T/p.json" .error)" "400 expired_token"
pid=$EMU_PID
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
wait "$pid" 2>/dev/null
rc=$?
check "exits by itself (status 0) when --lifetime is over" eq "$rc" 0
emu_stop

if [ "$failures" -ne 0 ]; then
    echo "emu_selftest: $failures failure(s)"
    exit 1
fi
echo "emu_selftest: all checks passed"
exit 0
