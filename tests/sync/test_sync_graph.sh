#!/bin/sh
# aad-login sync against the emulator's Microsoft Graph, without root: the
# files go to a scratch directory (--files-dir, --state-dir). Each check
# is one behaviour of doc/aad-login.1 "sync".
. "${top_srcdir:-.}/tests/sync/sync-lib.sh"
sync_require
sync_setup

echo "# a first sync: every member becomes an account; a local name is skipped"
sync_add "$OID_ALICE" "Alice@$DOMAIN" true
sync_add "$OID_BOB" "bob@$DOMAIN" true
sync_add "$OID_ROOT" "root@$DOMAIN" true
run_sync >"$T/out" 2>"$T/err"
check "first sync exits 0" test "$RC" = 0
check "alice's passwd line: uid from the oid, home, shell" \
    grep -qx "alice:x:$UID_ALICE:$UID_ALICE:Alice@$DOMAIN:/home/alice:/bin/bash" "$T/files/passwd"
check "alice's password is locked (!) in shadow" grep -qx "alice:!:::::::" "$T/files/shadow"
check "alice's own group" grep -qx "alice:x:$UID_ALICE:" "$T/files/group"
check "root (a local name) is not shadowed" sh -c "! grep -q '^root:' '$T/files/passwd'"
check "the skip is logged with its reason" grep -q "skipped root@$DOMAIN.*already exists" "$T/err"
check "the summary counts them" grep -q "2 accounts: 2 added, 0 locked, 0 unlocked, 0 removed, 1 skipped" "$T/out"

echo "# --dry-run prints the changes and writes nothing"
sync_add "$OID_CAROL" "carol@$DOMAIN" true
cp "$T/files/passwd" "$T/passwd.before"; cp "$T/state/sync.json" "$T/state.before"
run_sync --dry-run >"$T/out" 2>"$T/err"
check "dry run exits 0" test "$RC" = 0
check "dry run prints the addition" grep -q "^add     carol  *uid [0-9]*  *carol@$DOMAIN" "$T/out"
check "dry run leaves passwd as it was" cmp -s "$T/passwd.before" "$T/files/passwd"
check "dry run leaves the state as it was" cmp -s "$T/state.before" "$T/state/sync.json"

echo "# a delta sync costs what changed, not the size of the group"
emu_ctl POST /control/graph/user "{\"id\":\"$OID_BOB\",\"accountEnabled\":false}" >/dev/null
emu_ctl POST /control/stats/reset >/dev/null
run_sync >"$T/out" 2>"$T/err"
check "delta sync exits 0" test "$RC" = 0
check "carol added by the delta" grep -q "^carol:x:" "$T/files/passwd"
# the delta query, carol's details, the disabled members: 3 Graph requests
check "delta sync: 3 Graph requests" test "$(graph_requests)" = 3
check "bob, disabled in Entra ID, is locked: nologin shell" \
    grep -q "^bob:x:.*:/usr/sbin/nologin$" "$T/files/passwd"
check "bob's account is expired in shadow" grep -qx "bob:!::::::1:" "$T/files/shadow"
check "the lock is logged, sessions left to the administrator" \
    grep -q "locked bob .*disabled in Entra ID.*left to the administrator" "$T/err"

echo "# removed from the group: locked; enabled again and back: unlocked"
sync_remove "$OID_ALICE"
run_sync >"$T/out" 2>"$T/err"
check "alice, removed from the group, is locked" grep -q "locked alice .*no longer in provision_groups" "$T/err"
check "alice's uid stays with her while locked" grep -q "^alice:x:$UID_ALICE:" "$T/files/passwd"
emu_ctl POST /control/graph/user "{\"id\":\"$OID_BOB\",\"accountEnabled\":true}" >/dev/null
run_sync >"$T/out" 2>"$T/err"
check "bob, enabled again, is unlocked" grep -q "^bob:x:.*:/bin/bash$" "$T/files/passwd"

echo "# after the grace period the line goes, the uid is never reused"
run_sync -o provision_grace_days=0 >"$T/out" 2>"$T/err"
check "alice's lines are removed after provision_grace_days" \
    sh -c "! grep -q '^alice:' '$T/files/passwd' '$T/files/shadow' '$T/files/group'"
check "her uid is retired for her" jq -e ".retired[\"$UID_ALICE\"] == \"$OID_ALICE\"" "$T/state/sync.json"

echo "# Graph's 403: the missing permission, named; nothing changes"
cp "$T/files/passwd" "$T/passwd.before"
sync_add "$OID_DAVE" "dave@$DOMAIN" true
emu_ctl POST /control/graph/directory '{"app_roles":["GroupMember.Read.All"]}' >/dev/null
run_sync >"$T/out" 2>"$T/err"
check "without User.Read.All: exit 1" test "$RC" = 1
check "without User.Read.All: the message names it" grep -q "needs the permission User.Read.All" "$T/err"
emu_ctl POST /control/graph/directory '{"app_roles":[]}' >/dev/null
run_sync >"$T/out" 2>"$T/err"
check "without GroupMember.Read.All: the message names it" \
    grep -q "HTTP 403 Authorization_RequestDenied.*needs the permission GroupMember.Read.All" "$T/err"
check "a refused sync changes no file" cmp -s "$T/passwd.before" "$T/files/passwd"
check "--check shows the failed run and its reason" \
    sh -c "'$AAD_LOGIN' --check --config '$T/pam_aad.conf' --state-dir '$T/state' | grep -q 'FAIL last sync: .*GroupMember.Read.All'"
emu_ctl POST /control/graph/directory '{"app_roles":["GroupMember.Read.All","User.Read.All"]}' >/dev/null

echo "# throttling: 429 with Retry-After is honoured"
emu_ctl POST /control/fault '{"endpoint":"graph","error":"TooManyRequests","headers":{"Retry-After":"2"}}' >/dev/null
start=$(date +%s)
run_sync >"$T/out" 2>"$T/err"
check "after a 429 the sync retries and succeeds" test "$RC" = 0
check "it waited Retry-After (2 s)" test $(($(date +%s) - start)) -ge 2
check "dave, added meanwhile, has an account" grep -q "^dave:x:" "$T/files/passwd"

echo "# an expired delta link: a full read instead"
emu_ctl POST /control/fault '{"endpoint":"graph","status":410,"error":"resyncRequired"}' >/dev/null
run_sync >"$T/out" 2>"$T/err"
check "a 410 on the delta query falls back to a full read" grep -q "no longer knows the delta link" "$T/err"
check "and the sync succeeds" test "$RC" = 0

echo "# exit codes: usage, configuration, another sync running"
run_sync --no-such-option >"$T/out" 2>&1
check "an unknown option: exit 2 and the usage" sh -c "[ $RC = 2 ] && grep -q '^Usage: aad-login sync' '$T/out'"
run_sync -o provision_groups= >"$T/out" 2>&1
check "no provision_groups: exit 4, and what to set" sh -c "[ $RC = 4 ] && grep -q 'set provision_groups' '$T/out'"
flock "$T/state/sync.lock" sleep 3 &
holder=$!
sleep 0.5
run_sync >"$T/out" 2>&1
check "another sync holding the lock: exit 3 at once" sh -c "[ $RC = 3 ] && grep -q 'another sync is running' '$T/out'"
wait $holder

echo "# nested groups: the parent's delta does not show their changes: read whole"
PARENT=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a00a1
CHILD=0b7e1e38-7f0e-4a55-9c55-3c1c7d1a00c1
mkdir -p "$T/files_n" "$T/state_n"
chmod 700 "$T/state_n"
run_nested() {
    RC=0
    "$AAD_LOGIN" sync --config "$T/pam_aad.conf" -o provision_groups=$PARENT \
        --state-dir "$T/state_n" --files-dir "$T/files_n" >"$T/out" 2>"$T/err" || RC=$?
}
member() { printf '{"id":"%s","userPrincipalName":"%s@%s","accountEnabled":true}' "$1" "$2" "$DOMAIN"; }
emu_ctl POST /control/graph/directory "{\"group\":\"$PARENT\",\"add\":[$(member e1e10000-0000-4000-8000-0000000000e1 erin)]}" >/dev/null
emu_ctl POST /control/graph/directory "{\"group\":\"$CHILD\",\"add\":[$(member f4a40000-0000-4000-8000-0000000000f1 frank)]}" >/dev/null
run_nested
check "a flat group: erin added" grep -q "^erin:x:" "$T/files_n/passwd"
emu_ctl POST /control/graph/directory "{\"group\":\"$PARENT\",\"add_groups\":[\"$CHILD\"]}" >/dev/null
run_nested
check "a group nested since: seen in the delta, read whole" grep -q "it holds a nested group: reading all its members" "$T/err"
check "the nested group's member frank is added" grep -q "^frank:x:" "$T/files_n/passwd"
emu_ctl POST /control/graph/directory "{\"group\":\"$CHILD\",\"add\":[$(member 9a9a0000-0000-4000-8000-0000000000a9 gina)]}" >/dev/null
run_nested
check "a member added to the nested group is seen at the next run" grep -q "^gina:x:" "$T/files_n/passwd"
emu_ctl POST /control/graph/directory "{\"group\":\"$CHILD\",\"remove\":[\"f4a40000-0000-4000-8000-0000000000f1\"]}" >/dev/null
run_nested
check "and one removed from it is locked" grep -q "^frank:x:.*/usr/sbin/nologin$" "$T/files_n/passwd"

echo "# the emulator's Graph answers as Graph does (shapes the sync relies on)"
APP_TOKEN=$("$AAD_LOGIN" token --app --config "$T/pam_aad.conf" --scope "$GRAPH_URL/.default")
graph() { # PATH [CURL-ARGS...]: GET as the application
    _p=$1
    shift
    curl -sS --noproxy '*' -m 30 --cacert "$CA_FILE" -H "Authorization: Bearer $APP_TOKEN" "$@" "$GRAPH_URL$_p"
}
graph "/v1.0/groups/$GROUP/transitiveMembers?\$top=1" >"$T/page1"
check "transitiveMembers pages by @odata.nextLink (\$top=1)" \
    jq -e '(.value | length) == 1 and (.["@odata.nextLink"] | startswith("'"$GRAPH_URL"'"))' "$T/page1"
graph "$(jq -r '.["@odata.nextLink"]' "$T/page1" | sed "s|^$GRAPH_URL||")" >"$T/page2"
check "the next page holds the next member" \
    jq -e --slurpfile p1 "$T/page1" '.value[0].id != $p1[0].value[0].id' "$T/page2"
graph "/v1.0/groups/$GROUP/transitiveMembers/microsoft.graph.user?\$filter=accountEnabled%20eq%20false&\$count=true" >"$T/adv"
check "an advanced query without ConsistencyLevel: 400 Request_UnsupportedQuery" \
    jq -e '.error.code == "Request_UnsupportedQuery"' "$T/adv"
graph "/v1.0/groups/delta?\$filter=id%20eq%20'$GROUP'&\$select=members&\$deltatoken=latest" >"$T/latest"
check "delta with \$deltatoken=latest: no members, a deltaLink" \
    jq -e '(.value | length) == 0 and (.["@odata.deltaLink"] | test("deltatoken="))' "$T/latest"
sync_remove "$OID_DAVE"
graph "$(jq -r '.["@odata.deltaLink"]' "$T/latest" | sed "s|^$GRAPH_URL||")" >"$T/delta"
check "the delta since then: the removal, with @removed" \
    jq -e '.value[0]["members@delta"] == [{"@odata.type":"#microsoft.graph.user","id":"'"$OID_DAVE"'","@removed":{"reason":"deleted"}}]' "$T/delta"

echo "# the bearer token goes to graph_endpoint only"
emu_ctl POST /control/fault '{"endpoint":"graph","merge":{"@odata.deltaLink":"https://evil.example/graph/v1.0/x"}}' >/dev/null
run_sync -o provision_groups=$GROUP2 >"$T/out" 2>"$T/err"
check "a link outside graph_endpoint is not followed" grep -q "outside .*not followed" "$T/err"
check "--check reports the last good numbers when asked as the state's owner" \
    sh -c "'$AAD_LOGIN' --check --config '$T/pam_aad.conf' --state-dir '$T/state' | grep -q 'last sync'"

sync_finish
