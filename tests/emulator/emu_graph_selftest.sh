#!/bin/sh
# Self-test of the emulator's client-credentials grant (certificate client
# assertions made with openssl) and of its Microsoft Graph endpoints
# (checkMemberGroups, transitiveMemberOf paging, auth errors, faults).
# Exit 0 = pass, 1 = fail, 77 = skipped.
set -u

here=$(cd "$(dirname -- "$0")" && pwd)
EMU_SH_DIR=$here
. "$here/emu.sh"

SELFTEST_NAME=emu_graph_selftest
. "$here/selftest-lib.sh"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# ---- the application's certificate (and a stranger's), made with openssl
mkcert() { # mkcert NAME
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" \
        -out "$T/$1.pem" -days 2 -subj "/CN=$1" >/dev/null 2>&1
}
mkcert app || { echo "FAIL - openssl cannot make a certificate"; exit 1; }
mkcert stranger || exit 1
thumb() { # thumb NAME sha1|sha256 → base64url of the DER digest
    openssl x509 -in "$T/$1.pem" -outform DER | openssl dgst "-$2" -binary | b64url
}
APP_S256=$(thumb app sha256)
APP_S1=$(thumb app sha1)
STRANGER_S256=$(thumb stranger sha256)

emu_start --lifetime 120 --interval 0 --client-cert "$T/app.pem" ||
    { echo "FAIL - emulator did not start"; exit 1; }
echo "# emulator pid $EMU_PID at $AUTHORITY, Graph $GRAPH_URL"
TOKEN_PATH=/$TENANT_ID/oauth2/v2.0/token
AUD=$AUTHORITY$TOKEN_PATH
GRAPH_SCOPE='https%3A%2F%2Fgraph.microsoft.com%2F.default'
now=$(date +%s)

# assertion KEY ALG HEADER-JSON CLAIMS-JSON [saltlen] → compact JWS
assertion() {
    _h=$(printf '%s' "$3" | b64url)
    _p=$(printf '%s' "$4" | b64url)
    printf '%s.%s' "$_h" "$_p" >"$T/signing-input"
    if [ "$2" = PS256 ]; then
        openssl dgst -sha256 -sign "$T/$1.key" -sigopt rsa_padding_mode:pss \
            -sigopt "rsa_pss_saltlen:${5:-32}" -sigopt rsa_mgf1_md:sha256 \
            -binary "$T/signing-input" >"$T/sig"
    else
        openssl dgst -sha256 -sign "$T/$1.key" -binary "$T/signing-input" >"$T/sig"
    fi
    printf '%s.%s.%s' "$_h" "$_p" "$(b64url <"$T/sig")"
}
claims() { # claims [AUD] [NBF] [EXP] [JTI] [ISS]
    jq -cn --arg aud "${1:-$AUD}" --argjson nbf "${2:-$now}" \
        --argjson exp "${3:-$((now + 600))}" --arg jti "${4:-$(cat /proc/sys/kernel/random/uuid)}" \
        --arg iss "${5:-$CLIENT_ID}" \
        '{aud:$aud, exp:$exp, iss:$iss, jti:$jti, nbf:$nbf, sub:$iss, iat:$nbf}'
}
ps256_hdr() { printf '{"alg":"PS256","typ":"JWT","x5t#S256":"%s"}' "${1:-$APP_S256}"; }
cc() { # cc ASSERTION OUTFILE [scope] [path] → HTTP status
    emu_https "${4:-$TOKEN_PATH}" -o "$2" -w '%{http_code}' \
        -d "grant_type=client_credentials&client_id=$CLIENT_ID&scope=${3:-$GRAPH_SCOPE}" \
        -d 'client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer' \
        --data-urlencode "client_assertion=$1"
}
err() { jqv "$1" '"\(.error) \(.error_codes[0])"'; }

check "GRAPH_URL in emulator.env = AUTHORITY/graph" eq "$GRAPH_URL" "$AUTHORITY/graph"
check "--client-cert: thumbprints in /control/info" \
    eq "$(emu_ctl GET /control/info | jq -r '.client_cert | "\(.x5t) \(.["x5t#S256"])"')" "$APP_S1 $APP_S256"

# ---- client credentials: accepted forms
emu_ctl POST /control/stats/reset >/dev/null
A=$(assertion app PS256 "$(ps256_hdr)" "$(claims)")
check "PS256 + x5t#S256 assertion accepted (200)" eq "$(cc "$A" "$T/cc.json")" 200
check "client-credentials response members and lifetime" \
    eq "$(jqv "$T/cc.json" '"\(keys_unsorted | join(",")) \(.token_type) \(.expires_in) \(.ext_expires_in)"')" \
    "token_type,expires_in,ext_expires_in,access_token Bearer 3599 3599"
APP_TOKEN=$(jqv "$T/cc.json" .access_token)
check "replayed jti → 401 invalid_client AADSTS50013" \
    eq "$(cc "$A" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 50013"
check "RS256 + x5t (SHA-1) accepted" \
    eq "$(cc "$(assertion app RS256 "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"$APP_S1\"}" "$(claims)")" "$T/e.json")" 200
STD_S256=$(openssl x509 -in "$T/app.pem" -outform DER | openssl dgst -sha256 -binary | base64 -w0)
check "x5t#S256 in standard base64 (MSAL-Go) accepted" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr "$STD_S256")" "$(claims)")" "$T/e.json")" 200
check "scope {GRAPH_URL}/.default accepted" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)")" "$T/e.json" "$(printf '%s/.default' "$GRAPH_URL" | jq -sRr @uri)")" 200
check "domain-form endpoint and aud accepted" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "$AUTHORITY/$DOMAIN/oauth2/v2.0/token")")" "$T/e.json" "" "/$DOMAIN/oauth2/v2.0/token")" 200
emu_ctl GET /control/stats >"$T/stats.json"
check "stats: client_credentials counted apart from token" \
    eq "$(jqv "$T/stats.json" '"\(.requests.client_credentials) \(.requests.token)"')" "6 0"

# ---- client credentials: refusals
A=$(assertion app PS256 "$(ps256_hdr)" "$(claims)")
sig=${A##*.}
case $sig in A*) s2=B${sig#?} ;; *) s2=A${sig#?} ;; esac
check "tampered signature → 401 invalid_client AADSTS700027" \
    eq "$(cc "${A%.*}.$s2" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 700027"
check "tampered signature: Entra's message" \
    eq "$(jqv "$T/e.json" '.error_description | startswith("AADSTS700027: Client assertion contains an invalid signature.")')" true
check "PS256 with OpenSSL's default (max) salt length refused (JWA: salt = 32)" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)" max)" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 700027"
check "wrong aud → 401 invalid_client AADSTS700023" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token")")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700023"
check "aud of the v1 token endpoint refused" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "$AUTHORITY/$TENANT_ID/oauth2/token")")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700023"
check "expired assertion → 401 invalid_client AADSTS700024" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "" $((now - 900)) $((now - 300)))")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700024"
check "nbf in the future → AADSTS700024" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "" $((now + 120)) $((now + 600)))")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700024"
check "lifetime over 1 h → AADSTS700024" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "" "$now" $((now + 3700)))")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700024"
check "iss/sub not the client_id → AADSTS700021" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims "" "" "" "" 11111111-2222-3333-4444-555555555555)")" "$T/e.json") $(err "$T/e.json")" \
    "401 invalid_client 700021"
check "unknown certificate → 401 invalid_client AADSTS700027 (not registered)" \
    eq "$(cc "$(assertion stranger PS256 "$(ps256_hdr "$STRANGER_S256")" "$(claims)")" "$T/e.json") $(err "$T/e.json") $(jqv "$T/e.json" '.error_description | contains("is not registered on application")')" \
    "401 invalid_client 700027 true"
check "missing client_assertion → 401 invalid_client AADSTS7000218" \
    eq "$(emu_https "$TOKEN_PATH" -o "$T/e.json" -w '%{http_code}' -d "grant_type=client_credentials&client_id=$CLIENT_ID&scope=$GRAPH_SCOPE") $(err "$T/e.json")" \
    "401 invalid_client 7000218"
check "malformed assertion → AADSTS50027" \
    eq "$(cc "not-a-jwt" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 50027"
check "scope without /.default → 400 invalid_scope AADSTS1002012" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)")" "$T/e.json" 'User.Read') $(err "$T/e.json")" \
    "400 invalid_scope 1002012"
check "error JSON has Entra's members" \
    eq "$(jqv "$T/e.json" 'keys_unsorted | join(",")')" \
    "error,error_description,error_codes,timestamp,trace_id,correlation_id,error_uri"

# ---- control/client-cert: replace and clear
emu_ctl POST /control/client-cert "$(jq -n --rawfile p "$T/stranger.pem" '{pem:$p}')" >"$T/cc_ctl.json"
check "control/client-cert replaces the certificate" \
    eq "$(jqv "$T/cc_ctl.json" '.client_cert["x5t#S256"]')" "$STRANGER_S256"
check "the new certificate is accepted" \
    eq "$(cc "$(assertion stranger PS256 "$(ps256_hdr "$STRANGER_S256")" "$(claims)")" "$T/e.json")" 200
check "the old one is no longer registered" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)")" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 700027"
emu_ctl POST /control/client-cert '{"clear":true}' >/dev/null
check "clear: no certificate → AADSTS700027" \
    eq "$(cc "$(assertion stranger PS256 "$(ps256_hdr "$STRANGER_S256")" "$(claims)")" "$T/e.json") $(err "$T/e.json")" "401 invalid_client 700027"
check "control/client-cert rejects a non-certificate" \
    eq "$(emu_ctl POST /control/client-cert '{"pem":"junk"}' >/dev/null; echo $?)" 1
emu_ctl POST /control/client-cert "$(jq -n --rawfile p "$T/app.pem" '{pem:$p}')" >/dev/null

# ---- Graph data
G1=11111111-0000-4000-8000-000000000001
G2=11111111-0000-4000-8000-000000000002
G3=11111111-0000-4000-8000-000000000003
G4=11111111-0000-4000-8000-000000000004
G5=11111111-0000-4000-8000-000000000005
GX=99999999-0000-4000-8000-000000000009
OID=4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71 # the default user's oid
BOB=0b0b0b0b-1111-4222-8333-444444444444
emu_ctl POST /control/graph/members "{\"oid\":\"$OID\",\"groups\":[\"$G1\",\"$G2\",{\"id\":\"$G3\",\"displayName\":\"Admins\"},\"$G4\",\"$G5\"]}" >/dev/null
emu_ctl POST /control/graph/members "{\"oid\":\"$BOB\",\"groups\":[\"$G2\"]}" >/dev/null

# device flow → access token (scope as given)
user_token() { # user_token SCOPE [approve-json] → access token
    emu_https "/$TENANT_ID/oauth2/v2.0/devicecode" -o "$T/dc.json" \
        -d "client_id=$CLIENT_ID" --data-urlencode "scope=$1"
    _appr=${2:-}
    emu_ctl POST /control/approve "${_appr:-"{}"}" >/dev/null
    emu_https "$TOKEN_PATH" -o "$T/tok.json" \
        -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$CLIENT_ID&device_code=$(jqv "$T/dc.json" .device_code)"
    jqv "$T/tok.json" .access_token
}
graph() { # graph TOKEN METHOD PATH [JSON] → HTTP status; body in $T/g.json
    if [ $# -ge 4 ]; then
        curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" -D "$T/g.hdr" -o "$T/g.json" \
            -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
            -H 'Content-Type: application/json' --data-binary "$4" "$GRAPH_URL$3"
    else
        curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" -D "$T/g.hdr" -o "$T/g.json" \
            -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "$GRAPH_URL$3"
    fi
}
gerr() { jqv "$T/g.json" .error.code; }
CHECK_BODY="{\"groupIds\":[\"$G1\",\"$GX\",\"$G3\"]}"

emu_ctl POST /control/stats/reset >/dev/null
UR=$(user_token 'openid profile offline_access User.Read')
check "delegated (User.Read) me/checkMemberGroups → 200" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$CHECK_BODY")" 200
check "checkMemberGroups answer: the member subset, with @odata.context" \
    eq "$(jq -c . "$T/g.json")" \
    "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/\$metadata#Collection(Edm.String)\",\"value\":[\"$G1\",\"$G3\"]}"
check "Graph success: request-id and OData content type" \
    eq "$(tr -d '\r' <"$T/g.hdr" | grep -ci -e '^request-id: [0-9a-f-]\{36\}$' -e '^content-type: application/json;odata.metadata=minimal')" 2
URL_FORM=$(user_token 'openid https://graph.microsoft.com/User.Read')
check "scope https://graph.microsoft.com/User.Read also grants it" \
    eq "$(graph "$URL_FORM" POST /v1.0/me/checkMemberGroups "$CHECK_BODY")" 200
NOUR=$(user_token 'openid profile')
check "delegated without User.Read → 403 Authorization_RequestDenied" \
    eq "$(graph "$NOUR" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(gerr)" "403 Authorization_RequestDenied"
check "Graph error shape (code, message, innerError date/request-id/client-request-id)" \
    eq "$(jq -c '[(.error | keys_unsorted), (.error.innerError | keys_unsorted)]' "$T/g.json")" \
    '[["code","message","innerError"],["date","request-id","client-request-id"]]'
check "delegated token on users/{own oid} → 200" \
    eq "$(graph "$UR" POST "/v1.0/users/$OID/checkMemberGroups" "$CHECK_BODY")" 200
check "delegated token on users/{another user} → 403" \
    eq "$(graph "$UR" POST "/v1.0/users/$BOB/checkMemberGroups" "$CHECK_BODY") $(gerr)" "403 Authorization_RequestDenied"
check "groupIds: 21 ids → 400" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$(jq -cn --arg g "$G1" '{groupIds: [range(21) | $g]}')") $(gerr)" "400 Request_BadRequest"
check "groupIds: empty → 400" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups '{"groupIds":[]}')" 400
check "groupIds: 20 ids → 200" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$(jq -cn --arg g "$G1" '{groupIds: [range(20) | $g]}')")" 200

# ---- application token
check "app token: users/{oid}/checkMemberGroups → 200" \
    eq "$(graph "$APP_TOKEN" POST "/v1.0/users/$BOB/checkMemberGroups" "{\"groupIds\":[\"$G1\",\"$G2\"]}") $(jq -c .value "$T/g.json")" \
    "200 [\"$G2\"]"
check "app token on /me → 400 BadRequest" \
    eq "$(graph "$APP_TOKEN" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(gerr)" "400 BadRequest"
check "app token, unknown user → 404 Request_ResourceNotFound" \
    eq "$(graph "$APP_TOKEN" POST /v1.0/users/77777777-0000-4000-8000-000000000000/checkMemberGroups "$CHECK_BODY") $(gerr)" \
    "404 Request_ResourceNotFound"
emu_ctl POST /control/graph/settings '{"app_access":false}' >/dev/null
check "app_access false → 403 for app tokens" \
    eq "$(graph "$APP_TOKEN" POST "/v1.0/users/$BOB/checkMemberGroups" "$CHECK_BODY") $(gerr)" "403 Authorization_RequestDenied"
emu_ctl POST /control/graph/settings '{"app_access":true}' >/dev/null

# ---- bearer failures
check "no bearer → 401 InvalidAuthenticationToken + WWW-Authenticate" \
    eq "$(curl -sS --noproxy '*' --cacert "$CA_FILE" -D "$T/g.hdr" -o "$T/g.json" -w '%{http_code}' \
        -X POST --data-binary "$CHECK_BODY" "$GRAPH_URL/v1.0/me/checkMemberGroups") $(gerr) $(jqv "$T/g.json" .error.message) $(grep -ci '^www-authenticate: Bearer' "$T/g.hdr")" \
    "401 InvalidAuthenticationToken Access token is empty. 1"
check "unknown bearer → 401 InvalidAuthenticationToken" \
    eq "$(graph garbage.token.x POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(gerr)" "401 InvalidAuthenticationToken"
SHORT=$(user_token 'openid User.Read' '{"token_response":{"expires_in":1}}')
check "short-lived token works at first" \
    eq "$(graph "$SHORT" POST /v1.0/me/checkMemberGroups "$CHECK_BODY")" 200
sleep 1.2
check "…and is refused once expires_in is over (401)" \
    eq "$(graph "$SHORT" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(jqv "$T/g.json" .error.message)" \
    "401 Lifetime validation failed, the token is expired."
check "claims oid decides the user (another oid: no groups)" \
    eq "$(graph "$(user_token 'User.Read' "{\"claims\":{\"oid\":\"$BOB\"}}")" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(jq -c .value "$T/g.json")" \
    "200 []"

# ---- transitiveMemberOf paging
check "transitiveMemberOf \$top=2: page 1 (2 items, nextLink)" \
    eq "$(graph "$UR" GET '/v1.0/me/transitiveMemberOf?$top=2') $(jqv "$T/g.json" '"\(.value | length) \(.value[0]["@odata.type"]) \(.value[0].id) \(has("@odata.nextLink"))"')" \
    "200 2 #microsoft.graph.group $G1 true"
next=$(jqv "$T/g.json" '.["@odata.nextLink"]')
check "nextLink points at the emulator's Graph with \$skiptoken" \
    eq "$(printf '%s' "$next" | sed 's/skiptoken=.*/skiptoken=/')" "$GRAPH_URL/v1.0/me/transitiveMemberOf?\$top=2&\$skiptoken="
ids=$(jqv "$T/g.json" '[.value[].id] | join(" ")')
pages=1
while [ -n "$next" ] && [ "$next" != null ] && [ $pages -lt 10 ]; do
    curl -sS --noproxy '*' --cacert "$CA_FILE" -H "Authorization: Bearer $UR" -o "$T/g.json" "$next"
    ids="$ids $(jqv "$T/g.json" '[.value[].id] | join(" ")')"
    next=$(jqv "$T/g.json" '.["@odata.nextLink"] // empty')
    pages=$((pages + 1))
done
check "following nextLink: 3 pages, all 5 groups in order" eq "$pages $ids" "3 $G1 $G2 $G3 $G4 $G5"
check "displayName from control (default 'Group <id>')" \
    eq "$(graph "$UR" GET /v1.0/me/transitiveMemberOf >/dev/null; jqv "$T/g.json" '"\(.value[2].displayName)|\(.value[0].displayName)|\(has("@odata.nextLink"))"')" \
    "Admins|Group $G1|false"
emu_ctl POST /control/graph/settings '{"page_size":3}' >/dev/null
check "control page_size=3 → first page of 3" \
    eq "$(graph "$APP_TOKEN" GET "/v1.0/users/$OID/transitiveMemberOf" >/dev/null; jqv "$T/g.json" '"\(.value | length) \(has("@odata.nextLink"))"')" "3 true"
check "bad \$skiptoken → 400 Directory_ExpiredPageToken" \
    eq "$(graph "$UR" GET '/v1.0/me/transitiveMemberOf?$skiptoken=nope') $(gerr)" "400 Directory_ExpiredPageToken"
check "POST on transitiveMemberOf → 405" eq "$(graph "$UR" POST /v1.0/me/transitiveMemberOf '{}')" 405
check "getMemberObjects (securityEnabledOnly) → all groups" \
    eq "$(graph "$UR" POST /v1.0/me/getMemberObjects '{"securityEnabledOnly":true}') $(jqv "$T/g.json" '.value | length')" "200 5"
emu_ctl GET /control/stats >"$T/stats.json"
check "stats: graph requests counted" eq "$(jqv "$T/stats.json" '.requests.graph > 20')" true

# ---- faults on graph and client_credentials
emu_ctl POST /control/fault '{"endpoint":"graph","error":"TooManyRequests","headers":{"Retry-After":"3"}}' >/dev/null
check "graph fault: 429 TooManyRequests with Retry-After" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(gerr) $(tr -d '\r' <"$T/g.hdr" | sed -n 's/^[Rr]etry-[Aa]fter: //p')" \
    "429 TooManyRequests 3"
check "graph fault applies once" eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$CHECK_BODY")" 200
emu_ctl POST /control/fault '{"endpoint":"graph","status":503,"body":"{}"}' >/dev/null
check "graph fault: raw 503" eq "$(graph "$UR" GET /v1.0/me/transitiveMemberOf)" 503
emu_ctl POST /control/fault '{"endpoint":"client_credentials","error":"temporarily_unavailable"}' >/dev/null
check "client_credentials fault: 503 temporarily_unavailable" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)")" "$T/e.json") $(jqv "$T/e.json" .error)" "503 temporarily_unavailable"
emu_ctl POST /control/fault '{"endpoint":"client_credentials","status":429,"headers":{"Retry-After":"1"},"body":"{}"}' >/dev/null
emu_https "/$TENANT_ID/oauth2/v2.0/devicecode" -o "$T/dc.json" -d "client_id=$CLIENT_ID&scope=openid"
check "a client_credentials fault leaves device-code polling alone" \
    eq "$(emu_https "$TOKEN_PATH" -o "$T/e.json" -w '%{http_code}' -d "grant_type=device_code&client_id=$CLIENT_ID&device_code=$(jqv "$T/dc.json" .device_code)") $(jqv "$T/e.json" .error)" \
    "400 authorization_pending"
check "…and hits the next client_credentials request (429)" \
    eq "$(cc "$(assertion app PS256 "$(ps256_hdr)" "$(claims)")" "$T/e.json")" 429
emu_ctl POST /control/graph/members '{"clear":true}' >/dev/null
check "members clear → no groups" \
    eq "$(graph "$UR" POST /v1.0/me/checkMemberGroups "$CHECK_BODY") $(jq -c .value "$T/g.json")" "200 []"

emu_stop
if [ "$failures" -ne 0 ]; then
    echo "emu_graph_selftest: $failures failure(s)"
    exit 1
fi
echo "emu_graph_selftest: all checks passed"
exit 0
