#!/bin/sh
# Self-test of the emulator's refresh-token grant (emu_refresh.c) and the
# Graph counts at the HTTP level: a refresh token only with offline_access;
# grant_type=refresh_token answers a new access token for the scope asked,
# a new ID token (signed, same oid, with openid) and a new refresh token;
# rotation (the old token is used up: invalid_grant 70000); an unknown
# token (9002313); an unknown client; each control switch of
# /control/refresh (disabled 50057, deleted 50034, revoked 50173, password
# 50133, inactive 700082, sign-in frequency 70043, MFA 50078 with suberror
# basic_action, 50079 as interaction_required) in the full Entra shape; the
# per-grant counters of /control/stats; a refreshed groups claim follows
# /control/graph/members; users/$count and
# applications/$count with and without ConsistencyLevel: eventual.
# Exit 0 = pass, 1 = fail, 77 = skipped.
set -u

here=$(cd "$(dirname -- "$0")" && pwd)
EMU_SH_DIR=$here
. "$here/emu.sh"

SELFTEST_NAME=emu_refresh_selftest
. "$here/selftest-lib.sh"

emu_start --lifetime 60 --interval 0 || { echo "FAIL - emulator did not start"; exit 1; }
TOKEN_URL=/$TENANT_ID/oauth2/v2.0/token
DC_URL=/$TENANT_ID/oauth2/v2.0/devicecode
ERROR_MEMBERS="error,error_description,error_codes,timestamp,trace_id,correlation_id,error_uri"

# sign_in SCOPE OUTFILE: a device code approved and redeemed → HTTP status
sign_in() {
    emu_https "$DC_URL" -o "$T/dc.json" --data-urlencode "client_id=$CLIENT_ID" \
        --data-urlencode "scope=$1" >/dev/null
    emu_ctl POST /control/approve '{}' >/dev/null
    emu_https "$TOKEN_URL" -o "$2" -w '%{http_code}' \
        -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$CLIENT_ID" \
        --data-urlencode "device_code=$(jqv "$T/dc.json" .device_code)"
}
# refresh TOKEN SCOPE OUTFILE [CLIENT] → HTTP status
refresh() {
    emu_https "$TOKEN_URL" -o "$3" -w '%{http_code}' -d grant_type=refresh_token \
        --data-urlencode "client_id=${4:-$CLIENT_ID}" --data-urlencode "refresh_token=$1" \
        --data-urlencode "scope=$2"
}
entra_shape() { # entra_shape FILE ERROR CODE
    [ "$(jqv "$1" .error)" = "$2" ] && [ "$(jqv "$1" '.error_codes[0]')" = "$3" ] &&
        jqv "$1" .error_description | grep -q "^AADSTS$3: " &&
        [ "$(jq -r "[$(echo "$ERROR_MEMBERS" | sed 's/[a-z_]*/has("&")/g')] | all" "$1")" = true ]
}
payload() { printf '%s' "$1" | cut -d. -f2 | b64url_dec; }
stat() { emu_ctl GET /control/stats | jq -r "$1"; }

emu_https "/$TENANT_ID/discovery/v2.0/keys" -o "$T/keys.json"
emu_ctl POST /control/stats/reset >/dev/null

# ---- refresh tokens only with offline_access
check "sign-in without offline_access: 200" eq "$(sign_in "openid profile" "$T/no.json")" 200
check "... and no refresh_token" eq "$(jqv "$T/no.json" 'has("refresh_token")')" false
check "sign-in with offline_access: 200" \
    eq "$(sign_in "openid profile offline_access User.Read" "$T/s.json")" 200
rt1=$(jqv "$T/s.json" .refresh_token)
check "... with a refresh_token (1.A...)" eq "$(printf '%s' "$rt1" | cut -c1-3)" "1.A"

# ---- redemption
check "refresh for User.Read.All: 200" \
    eq "$(refresh "$rt1" "openid offline_access https://graph.microsoft.com/User.Read.All" "$T/r1.json")" 200
rt2=$(jqv "$T/r1.json" .refresh_token)
check "refresh: a new refresh token" test -n "$rt2" -a "$rt2" != "$rt1"
check "refresh: the scope asked for" eq "$(jqv "$T/r1.json" .scope)" "openid https://graph.microsoft.com/User.Read.All"
check "refresh: a new ID token, signed" verify_jws "$(jqv "$T/r1.json" .id_token)" "$T/keys.json"
check "refresh: same oid as the sign-in" \
    eq "$(payload "$(jqv "$T/r1.json" .id_token)" | jq -r .oid)" \
    "$(payload "$(jqv "$T/s.json" .id_token)" | jq -r .oid)"
check "refresh: expires_in 3600..5400" eq "$(jq '.expires_in >= 3600 and .expires_in <= 5400' "$T/r1.json")" true
check "refresh without openid: no id_token" \
    eq "$(refresh "$rt2" "https://graph.microsoft.com/User.Read" "$T/r2.json")" 200
check "... and none in the answer" eq "$(jqv "$T/r2.json" 'has("id_token")')" false
rt3=$(jqv "$T/r2.json" .refresh_token)

# ---- rotation, unknown token, another client
check "a used refresh token: 400" eq "$(refresh "$rt1" "User.Read" "$T/used.json")" 400
check "... invalid_grant 70000 in Entra's shape" entra_shape "$T/used.json" invalid_grant 70000
check "an unknown refresh token: 400" eq "$(refresh "1.Anope" "User.Read" "$T/unk.json")" 400
check "... invalid_grant 9002313" entra_shape "$T/unk.json" invalid_grant 9002313
check "a refresh by an unknown client: 400" \
    eq "$(refresh "$rt3" "User.Read" "$T/other.json" 00000000-0000-0000-0000-000000000001)" 400
check "... unauthorized_client 700016 (unknown client)" entra_shape "$T/other.json" unauthorized_client 700016

# ---- counters
check "stats: 2 device_code sign-ins issued" eq "$(stat .grants.device_code.issued)" 2
check "stats: 4 refresh_token requests, 2 issued" \
    eq "$(stat '"\(.grants.refresh_token.requests) \(.grants.refresh_token.issued)"')" "4 2"
check "stats: 2 devicecode requests" eq "$(stat .requests.devicecode)" 2

# ---- the switches
switch() { # switch AADSTS ERROR [SUBERROR]
    sign_in "openid profile offline_access" "$T/sw.json" >/dev/null
    _rt=$(jqv "$T/sw.json" .refresh_token)
    emu_ctl POST /control/refresh "{\"aadsts\":$1}" >"$T/ctl.json"
    _st=$(refresh "$_rt" "openid" "$T/swr.json")
    if [ "$_st" = 400 ] && entra_shape "$T/swr.json" "$2" "$1" &&
        [ "$(jqv "$T/swr.json" '.suberror // ""')" = "${3:-}" ] &&
        [ "$(jqv "$T/ctl.json" '.revoked >= 1')" = true ]; then
        pass "refresh after /control/refresh $1: $2${3:+ ($3)}"
    else
        fail "refresh after /control/refresh $1: HTTP $_st $(cat "$T/swr.json")"
    fi
}
switch 50057 invalid_grant
switch 50034 invalid_grant
switch 50173 invalid_grant
switch 50133 invalid_grant
switch 700082 invalid_grant
switch 70043 invalid_grant
switch 50078 invalid_grant basic_action
switch 50079 interaction_required basic_action
check "a new sign-in after a revocation refreshes again" \
    eq "$(sign_in "openid profile offline_access" "$T/again.json")" 200
check "... 200" eq "$(refresh "$(jqv "$T/again.json" .refresh_token)" openid "$T/again2.json")" 200
check "control/refresh with an unknown code: 400" \
    eq "$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -X POST -d '{"aadsts":1}' "$CONTROL_URL/control/refresh")" 400
# ---- a refreshed groups claim is the membership now
emu_https "$DC_URL" -o "$T/dc.json" --data-urlencode "client_id=$CLIENT_ID" \
    --data-urlencode "scope=openid offline_access" >/dev/null
emu_ctl POST /control/approve '{"claims":{"groups":["g-admins","g-users"]}}' >/dev/null
emu_https "$TOKEN_URL" -o "$T/gs.json" \
    -d "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=$CLIENT_ID" \
    --data-urlencode "device_code=$(jqv "$T/dc.json" .device_code)"
g_oid=$(payload "$(jqv "$T/gs.json" .id_token)" | jq -r .oid)
refresh "$(jqv "$T/gs.json" .refresh_token)" openid "$T/gr1.json" >/dev/null
check "a refresh keeps the sign-in's groups while none are set" \
    eq "$(payload "$(jqv "$T/gr1.json" .id_token)" | jq -c .groups)" '["g-admins","g-users"]'
emu_ctl POST /control/graph/members "{\"oid\":\"$g_oid\",\"groups\":[\"g-users\"]}" >/dev/null
refresh "$(jqv "$T/gr1.json" .refresh_token)" openid "$T/gr2.json" >/dev/null
check "after /control/graph/members the refreshed groups claim is the new membership" \
    eq "$(payload "$(jqv "$T/gr2.json" .id_token)" | jq -c .groups)" '["g-users"]'
emu_ctl POST /control/graph/members '{"clear":true}' >/dev/null

emu_ctl GET /control/refresh >"$T/list.json"
check "GET /control/refresh lists the tokens and their states" \
    eq "$(jq '[.refresh_tokens[].state] | (index("used") != null and index("revoked") != null and index("active") != null)' "$T/list.json")" true

# ---- Graph counts
count() { # count TOKEN PATH [CONSISTENCY] → "status body"
    _b=$({ printf 'header = "Authorization: Bearer %s"\n' "$1"
        [ -n "${3:-}" ] && printf 'header = "ConsistencyLevel: %s"\n' "$3"; } |
        curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" --config - -o "$T/count.out" \
            -w '%{http_code}' "$GRAPH_URL/v1.0/$2")
    echo "$_b $(cat "$T/count.out")"
}
refresh "$(jqv "$T/again2.json" .refresh_token)" \
    "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/Application.Read.All" \
    "$T/g.json" >/dev/null
gt=$(jqv "$T/g.json" .access_token)
emu_ctl POST /control/graph/settings '{"users_count":42,"applications_count":5}' >/dev/null
check "users/\$count with ConsistencyLevel: eventual: 200 42" eq "$(count "$gt" 'users/$count' eventual)" "200 42"
check "applications/\$count: 200 5" eq "$(count "$gt" 'applications/$count' eventual)" "200 5"
check "users/\$count without ConsistencyLevel: 400 Request_BadRequest" \
    eq "$(count "$gt" 'users/$count' | cut -d' ' -f1) $(jq -r .error.code "$T/count.out")" "400 Request_BadRequest"
refresh "$(jqv "$T/g.json" .refresh_token)" "https://graph.microsoft.com/User.Read" "$T/g2.json" >/dev/null
check "users/\$count with only User.Read: 403" \
    eq "$(count "$(jqv "$T/g2.json" .access_token)" 'users/$count' eventual | cut -d' ' -f1)" 403
check "users/\$count without a token: 401" eq "$(count "" 'users/$count' eventual | cut -d' ' -f1)" 401

[ "$failures" = 0 ] && echo "PASS: the emulator's refresh-token grant and Graph counts" || echo "FAIL: $failures check(s)"
[ "$failures" = 0 ]
