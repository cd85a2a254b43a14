#!/bin/sh
# test_aad_token_cache.sh - `aad-login token` signed in once, as a cron job
# uses it, against the emulator (which counts requests by grant type), in
# private keyrings (tests/tools/private-keyrings.sh: the host's are never
# touched):
#   sign_in_prints_nothing_on_stdout (--sign-in on a terminal);
#   second_and_hundredth_run_make_no_device_code_request (a new scope: one
#     refresh; then 0 device-code and 0 token requests for 99 more runs);
#   kept_token_is_served_by_the_front_alone (aad-login without the core
#     beside it, and without libcurl or OpenSSL);
#   az_json_prints_exactly_the_fields_of_az (accessToken, expiresOn,
#     expires_on, tenant, tokenType);
#   token_with_less_than_5_minutes_left_is_never_printed;
#   racing_runs_all_get_a_token (rotation: refreshes of one sign-in at once);
#   revoked_sign_in_is_one_sentence_and_exit_7 (AADSTS50173);
#   demand_for_a_fresh_sign_in_is_exit_7 (sign-in frequency, AADSTS70043);
#   revoked_sign_in_on_a_terminal_signs_in_again;
#   sign_out_forgets_the_sign_in (the next run needs a sign-in);
#   no_terminal_and_no_sign_in_exits_at_once (exit 7 within 2 s, one line,
#     no request);
#   another_uid_cannot_use_the_sign_in;
#   ordinary_user_with_tenant_and_client_id (no system file readable, a
#     fresh home: its key cache is made, domains not needed);
#   unreadable_system_file_says_what_to_do (and an explicit
#     cache_dir=$HOME/.cache/pam_aad on a fresh account is made);
#   a_new_sign_in_as_another_account_drops_the_old_tokens;
#   user_keyring_keeps_the_sign_in (token_store = user);
#   no_store_signs_in_every_time_and_says_so_once (token_store = none);
#   app_token_is_reused_until_5_minutes_before_expiry;
#   app_token_waits_out_a_429 (Retry-After);
#   url_is_whole_at_80_columns (tmux 80x24);
#   nothing_of_the_tokens_is_written_under_home_tmp_or_var (every refresh
#     token the emulator issued and every access token printed, looked for
#     in every file changed under $HOME, /tmp and /var during the test).
# Exit: 0 pass, 1 fail, 77 skipped (not root, or jq/script/setpriv
# missing), 99 hard error.
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
top_srcdir=$(cd "$top_srcdir" && pwd)
builddir=$(cd "$builddir" && pwd)
AAD_LOGIN="$builddir/tools/aad-login"

for t in jq script; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
. "$top_srcdir/tests/tools/private-keyrings.sh"
reexec_in_private_keyrings "$0" "$@"

. "$top_srcdir/tests/emulator/emu.sh"
rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/aad-token-cache.XXXXXX")
out=$work/out # what the test itself captures (tokens on purpose)
mkdir -p "$out" "$work/home"
chmod 755 "$work"
cleanup() {
    emu_stop || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
: >"$work/started"
sleep 1 # files changed after this are newer than the marker

emu_start --lifetime 300 --interval 1 || exit 99
chmod 755 "$EMU_DIR"
API=api://aad-emulator-api
GRAPH=https://graph.microsoft.com
emu_write_config "$work/pam_aad.conf" "cache_dir = $work/cache" "qr = no" "timeout = 30"
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":-1}' >/dev/null || exit 99

# tty NAME ARGS...: aad-login token ARGS on a pty (script), stdout to
# NAME.out, the pty in NAME.tty; prints the exit status.
tty_run() {
    name=$1
    shift
    cmd="'$AAD_LOGIN' token"
    for a in "$@"; do cmd="$cmd '$a'"; done
    rm -f "$out/$name.rc"
    script -q -e -c "$cmd >'$out/$name.out' </dev/null; echo \$? >'$out/$name.rc'" \
        "$out/$name.tty" </dev/null >/dev/null 2>&1
    cat "$out/$name.rc" 2>/dev/null || echo 99
}
# cron NAME ARGS...: as cron runs it: no controlling terminal, no tty on
# any descriptor; stdout to NAME.out, stderr to NAME.err; prints the status.
cron() {
    name=$1
    shift
    ${AS_USER:-} setsid -w "$AAD_LOGIN" token "$@" </dev/null >"$out/$name.out" 2>"$out/$name.err"
    echo $?
}
# counts: "devicecode-requests device_code-grants refresh_token-grants client_credentials"
counts() {
    emu_ctl GET /control/stats |
        jq -r '"\(.requests.devicecode) \(.grants.device_code.requests) \(.grants.refresh_token.requests) \(.grants.client_credentials.requests)"'
}
reset_counts() { emu_ctl POST /control/stats/reset >/dev/null; }
C="--config $work/pam_aad.conf"

# --- sign_in_prints_nothing_on_stdout ----------------------------------------
# shellcheck disable=SC2086
st=$(tty_run signin $C --sign-in --scope "$API/Data.Read")
if [ "$st" = 0 ] && [ ! -s "$out/signin.out" ] && grep -a -q "signed in as alice@$DOMAIN" "$out/signin.tty" &&
    grep -a -q 'enter the code [A-Z0-9]' "$out/signin.tty"; then
    ok "sign_in_prints_nothing_on_stdout"
else
    fail "sign_in_prints_nothing_on_stdout: exit $st, stdout $(wc -c <"$out/signin.out") bytes: $(tr -d '\r' <"$out/signin.tty" | tail -2)"
fi

# --- second_and_hundredth_run_make_no_device_code_request ----------------------
reset_counts
# shellcheck disable=SC2086
st=$(cron run2 $C --scope "$GRAPH/User.Read.All")
after2=$(counts)
i=3 bad=
while [ $i -le 100 ]; do
    # shellcheck disable=SC2086
    s=$(cron "run$i" $C --scope "$GRAPH/User.Read.All")
    [ "$s" = 0 ] && cmp -s "$out/run2.out" "$out/run$i.out" || bad="$bad $i:$s"
    i=$((i + 1))
done
after100=$(counts)
if [ "$st" = 0 ] && [ -s "$out/run2.out" ] && [ "$after2" = "0 0 1 0" ] && [ -z "$bad" ] &&
    [ "$after100" = "0 0 1 0" ]; then
    ok "second_and_hundredth_run_make_no_device_code_request (2nd: one refresh; 3rd..100th: no request)"
else
    fail "second_and_hundredth_run_make_no_device_code_request: exit $st, after the 2nd '$after2', after the 100th '$after100', bad runs:$bad $(cat "$out/run2.err")"
fi

# --- kept_token_is_served_by_the_front_alone -----------------------------------
# aad-login's front (no libcurl, no OpenSSL) hands out a kept token without
# the core: a copy of it with no aad-login-core beside it still serves one.
mkdir -p "$work/front"
cp "$AAD_LOGIN" "$work/front/aad-login"
"$work/front/aad-login" token --config "$work/pam_aad.conf" --scope "$GRAPH/User.Read.All" \
    </dev/null >"$out/front.out" 2>"$out/front.err"
st=$?
"$work/front/aad-login" token --config "$work/pam_aad.conf" --scope "$GRAPH/Not.Kept" \
    </dev/null >"$out/front2.out" 2>"$out/front2.err"
st2=$?
if [ "$st" = 0 ] && cmp -s "$out/front.out" "$out/run2.out" && [ "$st2" != 0 ] &&
    grep -q "cannot run .*aad-login-core" "$out/front2.err" &&
    ! ldd "$AAD_LOGIN" | grep -q -e libcurl -e libcrypto; then
    ok "kept_token_is_served_by_the_front_alone (no libcurl or libcrypto in aad-login; the core for the rest)"
else
    fail "kept_token_is_served_by_the_front_alone: exits $st/$st2: $(cat "$out/front.err" "$out/front2.err")"
fi

# --- az_json_prints_exactly_the_fields_of_az --------------------------------------
# shellcheck disable=SC2086
st=$(cron az $C --az-json --scope "$GRAPH/User.Read.All")
keys=$(jq -r 'keys_unsorted | sort | join(",")' "$out/az.out" 2>/dev/null)
same=$(jq -r --arg t "$(cat "$out/run2.out")" '.accessToken == $t and .tokenType == "Bearer" and (.expires_on - now > 300) and (.expiresOn | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\.[0-9]{6}$"))' "$out/az.out" 2>/dev/null)
if [ "$st" = 0 ] && [ "$keys" = "accessToken,expiresOn,expires_on,tenant,tokenType" ] && [ "$same" = true ] &&
    [ "$(jq -r .tenant "$out/az.out")" = "$TENANT_ID" ]; then
    ok "az_json_prints_exactly_the_fields_of_az"
else
    fail "az_json_prints_exactly_the_fields_of_az: exit $st, keys $keys, $same"
fi

# --- token_with_less_than_5_minutes_left_is_never_printed -----------------------
# A sign-in whose access token has 303 s left: printed once; 4 s later it
# has less than 300 s left and a refresh must replace it.
# shellcheck disable=SC2086
cron shortout $C --sign-out >/dev/null
emu_ctl POST /control/auto-approve '{"cancel":true}' >/dev/null
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":1,"token_response":{"expires_in":303}}' >/dev/null
# shellcheck disable=SC2086
st1=$(tty_run short1 $C --json --scope "$GRAPH/User.Read")
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":-1}' >/dev/null
sleep 4
reset_counts
# shellcheck disable=SC2086
st2=$(cron short2 $C --json --scope "$GRAPH/User.Read")
left1=$(jq -r .expires_in "$out/short1.out" 2>/dev/null)
left2=$(jq -r .expires_in "$out/short2.out" 2>/dev/null)
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "${left1:-0}" -gt 300 ] && [ "${left2:-0}" -gt 300 ] &&
    [ "$(jq -r .access_token "$out/short1.out")" != "$(jq -r .access_token "$out/short2.out")" ] &&
    [ "$(counts)" = "0 0 1 0" ]; then
    ok "token_with_less_than_5_minutes_left_is_never_printed (303 s at first; refreshed 4 s later: $left2 s)"
else
    fail "token_with_less_than_5_minutes_left_is_never_printed: exit $st1/$st2, left $left1/$left2, counts $(counts)"
fi

# --- racing_runs_all_get_a_token -----------------------------------------------
# Four runs at once for a scope nobody has asked for yet: each may refresh,
# and each redemption uses up the refresh token the others read.
pids=
for i in 1 2 3 4; do
    # shellcheck disable=SC2086
    (echo "$(cron race$i $C --scope "$GRAPH/Directory.Read.All")" >"$out/race$i.rc") &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
racing=
for i in 1 2 3 4; do
    [ "$(cat "$out/race$i.rc")" = 0 ] && [ -s "$out/race$i.out" ] || racing="$racing $i:$(cat "$out/race$i.rc"):$(cat "$out/race$i.err")"
done
# shellcheck disable=SC2086
st=$(cron afterrace $C --scope "$GRAPH/Group.Read.All")
if [ -z "$racing" ] && [ "$st" = 0 ]; then
    ok "racing_runs_all_get_a_token (and the sign-in still works after)"
else
    fail "racing_runs_all_get_a_token:$racing; after: $st $(cat "$out/afterrace.err")"
fi

# --- revoked_sign_in_is_one_sentence_and_exit_7 ------------------------------------
emu_ctl POST /control/refresh '{"aadsts":50173}' >/dev/null
reset_counts
# shellcheck disable=SC2086
st=$(cron revoked $C --scope "$GRAPH/Mail.Read")
if [ "$st" = 7 ] && [ ! -s "$out/revoked.out" ] && [ "$(wc -l <"$out/revoked.err")" = 1 ] &&
    grep -q "AADSTS50173" "$out/revoked.err" && grep -q "aad-login token --sign-in" "$out/revoked.err" &&
    [ "$(counts)" = "0 0 1 0" ]; then
    ok "revoked_sign_in_is_one_sentence_and_exit_7: $(cat "$out/revoked.err")"
else
    fail "revoked_sign_in_is_one_sentence_and_exit_7: exit $st, counts $(counts): $(cat "$out/revoked.err")"
fi
# The refused sign-in is forgotten: the next run asks at once, sends nothing.
reset_counts
# shellcheck disable=SC2086
st=$(cron revoked2 $C --scope "$GRAPH/Mail.Read")
[ "$st" = 7 ] && [ "$(counts)" = "0 0 0 0" ] || fail "revoked_sign_in: the run after: exit $st, counts $(counts)"

# --- revoked_sign_in_on_a_terminal_signs_in_again ------------------------------------
# shellcheck disable=SC2086
tty_run resign $C --sign-in >/dev/null
emu_ctl POST /control/refresh '{"aadsts":50057}' >/dev/null
reset_counts
# shellcheck disable=SC2086
st=$(tty_run resign2 $C --scope "$GRAPH/Mail.Send")
if [ "$st" = 0 ] && [ -s "$out/resign2.out" ] && grep -a -q "AADSTS50057" "$out/resign2.tty" &&
    [ "$(counts | cut -d' ' -f1,3)" = "1 1" ]; then
    ok "revoked_sign_in_on_a_terminal_signs_in_again (the account-disabled sentence, then the code)"
else
    fail "revoked_sign_in_on_a_terminal_signs_in_again: exit $st, counts $(counts): $(tr -d '\r' <"$out/resign2.tty" | head -3)"
fi

# --- demand_for_a_fresh_sign_in_is_exit_7 ----------------------------------------------
emu_ctl POST /control/refresh '{"aadsts":70043}' >/dev/null
# shellcheck disable=SC2086
st=$(cron frequency $C --scope "$GRAPH/Calendars.Read")
if [ "$st" = 7 ] && grep -q "sign-in frequency.*AADSTS70043" "$out/frequency.err"; then
    ok "demand_for_a_fresh_sign_in_is_exit_7"
else
    fail "demand_for_a_fresh_sign_in_is_exit_7: exit $st: $(cat "$out/frequency.err")"
fi

# --- sign_out_forgets_the_sign_in ----------------------------------------------------
# shellcheck disable=SC2086
tty_run again $C --sign-in >/dev/null
# shellcheck disable=SC2086
st1=$(cron beforeout $C --scope "$GRAPH/User.Read")
# shellcheck disable=SC2086
st2=$(cron signout $C --sign-out)
reset_counts
# shellcheck disable=SC2086
st3=$(cron afterout $C --scope "$GRAPH/User.Read")
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "$st3" = 7 ] && [ "$(counts)" = "0 0 0 0" ] &&
    grep -q "signed out" "$out/signout.err" && [ ! -s "$out/afterout.out" ]; then
    ok "sign_out_forgets_the_sign_in ($(cat "$out/signout.err"))"
else
    fail "sign_out_forgets_the_sign_in: exits $st1 $st2 $st3, counts $(counts): $(cat "$out/signout.err" "$out/afterout.err")"
fi

# --- no_terminal_and_no_sign_in_exits_at_once ------------------------------------------
reset_counts
t0=$(date +%s%N)
# shellcheck disable=SC2086
st=$(cron nosignin $C --scope "$API/Data.Read")
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$st" = 7 ] && [ "$ms" -lt 2000 ] && [ "$(wc -l <"$out/nosignin.err")" = 1 ] &&
    grep -q "run 'aad-login token --sign-in' in a terminal" "$out/nosignin.err" && [ "$(counts)" = "0 0 0 0" ]; then
    ok "no_terminal_and_no_sign_in_exits_at_once (exit 7 in $ms ms, no request)"
else
    fail "no_terminal_and_no_sign_in_exits_at_once: exit $st in $ms ms, counts $(counts): $(cat "$out/nosignin.err")"
fi

# --- another_uid_cannot_use_the_sign_in ----------------------------------------------------
# shellcheck disable=SC2086
tty_run root_signin $C --sign-in >/dev/null
chmod 644 "$work/pam_aad.conf"
reset_counts
# shellcheck disable=SC2086
st=$(AS_USER="setpriv --reuid=4243 --regid=4243 --clear-groups" cron other $C -o cache_dir=/nonexistent/x --scope "$GRAPH/User.Read")
# shellcheck disable=SC2086
st_root=$(cron root_again $C --scope "$GRAPH/User.Read")
if [ "$st" = 7 ] && [ "$st_root" = 0 ] && [ "$(counts | cut -d' ' -f1-3)" = "0 0 1" ]; then
    ok "another_uid_cannot_use_the_sign_in (uid 4243: exit 7; root still refreshes)"
else
    fail "another_uid_cannot_use_the_sign_in: exit $st (root $st_root), counts $(counts): $(cat "$out/other.err")"
fi

# --- ordinary_user_with_tenant_and_client_id ---------------------------------------------
# A fresh account (no ~/.cache) on a host whose system file is root's alone.
# The system file is the one this build reads (sysconfdir: /etc for the
# package, /usr/local/etc for a default build), made in this namespace only:
# bound over its folder, or over the nearest folder that exists through an
# overlay whose changes stay in $work.
SYSTEM_CONFIG=${AAD_SYSTEM_CONFIG:-/etc/security/pam_aad.conf}
cp /etc/passwd "$work/passwd"
echo "scripter:x:4242:4242:script author:$work/home:/bin/sh" >>"$work/passwd"
chown 4242:4242 "$work/home"
mount --make-rprivate / 2>/dev/null
security_dir=$(dirname "$SYSTEM_CONFIG")
if [ -d "$security_dir" ]; then
    mkdir -p "$work/etc-security"
    mount --bind "$work/etc-security" "$security_dir"
else
    existing=$security_dir
    while [ ! -d "$existing" ]; do existing=$(dirname "$existing"); done
    mkdir -p "$work/overlay/upper" "$work/overlay/work"
    mount -t overlay overlay -o "lowerdir=$existing,upperdir=$work/overlay/upper,workdir=$work/overlay/work" "$existing"
    mkdir -p "$security_dir"
fi
umask 077
echo "tenant = $TENANT_ID" >"$SYSTEM_CONFIG"
umask 022
mount --bind "$work/passwd" /etc/passwd
AS_SCRIPTER="setpriv --reuid=4242 --regid=4242 --clear-groups env HOME=$work/home"
USER_OPTS="--tenant $TENANT_ID --client-id $CLIENT_ID -o authority=$AUTHORITY -o ca_file=$CA_FILE -o qr=no -o timeout=30"
script -q -e -c "$AS_SCRIPTER '$AAD_LOGIN' token $USER_OPTS --sign-in </dev/null >'$out/scripter.out'; echo \$? >'$out/scripter.rc'" \
    "$out/scripter.tty" </dev/null >/dev/null 2>&1
st1=$(cat "$out/scripter.rc" 2>/dev/null || echo 99)
reset_counts
# shellcheck disable=SC2086
st2=$(AS_USER="$AS_SCRIPTER" cron scripter2 $USER_OPTS --scope "$GRAPH/User.Read")
cache_mode=$(stat -c '%a %u' "$work/home/.cache/pam_aad" 2>/dev/null)
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "$(counts | cut -d' ' -f1,3)" = "0 1" ] &&
    [ "$cache_mode" = "700 4242" ] && [ -n "$(ls "$work/home/.cache/pam_aad")" ] &&
    ! grep -a -q -i "warning" "$out/scripter.tty"; then
    ok "ordinary_user_with_tenant_and_client_id (no file read; ~/.cache/pam_aad made $cache_mode; no warning)"
else
    fail "ordinary_user_with_tenant_and_client_id: exits $st1/$st2, counts $(counts), cache '$cache_mode': $(tr -d '\r' <"$out/scripter.tty" | tail -3) $(cat "$out/scripter2.err")"
fi

# --- unreadable_system_file_says_what_to_do ---------------------------------------------
# shellcheck disable=SC2086
st=$(AS_USER="$AS_SCRIPTER" cron unreadable --scope "$GRAPH/User.Read")
if [ "$st" = 4 ] && grep -q "$SYSTEM_CONFIG is readable by root only. Give --tenant and --client-id" "$out/unreadable.err" &&
    [ "$(wc -l <"$out/unreadable.err")" = 1 ]; then
    ok "unreadable_system_file_says_what_to_do: $(cat "$out/unreadable.err")"
else
    fail "unreadable_system_file_says_what_to_do: exit $st: $(cat "$out/unreadable.err")"
fi
# The user's own file is read first, and needs no domains.
mkdir -p "$work/home/.config/pam_aad"
printf 'tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\n' "$TENANT_ID" "$CLIENT_ID" \
    "$AUTHORITY" "$CA_FILE" >"$work/home/.config/pam_aad/token.conf"
chown -R 4242:4242 "$work/home/.config"
# shellcheck disable=SC2086
st=$(AS_USER="$AS_SCRIPTER" cron ownfile --scope "$GRAPH/User.Read")
[ "$st" = 0 ] && ok "the user's own ~/.config/pam_aad/token.conf is read (no domains in it)" ||
    fail "own token.conf: exit $st: $(cat "$out/ownfile.err")"

# An explicit cache_dir under a fresh home (no ~/.cache yet) is made.
rm -rf "$work/home/.cache"
script -q -e -c "$AS_SCRIPTER '$AAD_LOGIN' token $USER_OPTS -o cache_dir=$work/home/.cache/pam_aad --sign-in </dev/null >/dev/null; echo \$? >'$out/freshcache.rc'" \
    "$out/freshcache.tty" </dev/null >/dev/null 2>&1
if [ "$(cat "$out/freshcache.rc" 2>/dev/null)" = 0 ] && [ -n "$(ls "$work/home/.cache/pam_aad" 2>/dev/null)" ] &&
    ! grep -a -q -i "warning" "$out/freshcache.tty"; then
    ok "an explicit cache_dir=\$HOME/.cache/pam_aad is made on a fresh account"
else
    fail "explicit cache_dir on a fresh account: $(tr -d '\r' <"$out/freshcache.tty" | tail -3)"
fi

# --- a_new_sign_in_as_another_account_drops_the_old_tokens ----------------------------
# shellcheck disable=SC2086
tty_run alice $C --sign-in >/dev/null
# shellcheck disable=SC2086
cron alice_token $C --json --scope "$GRAPH/People.Read" >/dev/null
emu_ctl POST /control/auto-approve '{"cancel":true}' >/dev/null
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":1,"claims":{"preferred_username":"bob@'"$DOMAIN"'","oid":"2b2b2b2b-3333-4444-8555-666677778888"}}' >/dev/null
# shellcheck disable=SC2086
st1=$(tty_run bob $C --sign-in)
emu_ctl POST /control/auto-approve '{"delay_ms":300,"count":-1}' >/dev/null
# shellcheck disable=SC2086
st2=$(cron bob_token $C --json --scope "$GRAPH/People.Read")
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "$(jq -r .upn "$out/alice_token.out")" = "alice@$DOMAIN" ] &&
    [ "$(jq -r .upn "$out/bob_token.out")" = "bob@$DOMAIN" ]; then
    ok "a_new_sign_in_as_another_account_drops_the_old_tokens (alice's kept token is not handed out for bob)"
else
    fail "a_new_sign_in_as_another_account_drops_the_old_tokens: exits $st1/$st2, upn $(jq -r .upn "$out/bob_token.out" 2>/dev/null)"
fi

# --- user_keyring_keeps_the_sign_in ---------------------------------------------------
# shellcheck disable=SC2086
st1=$(tty_run ukr $C -o token_store=user --sign-in)
reset_counts
# shellcheck disable=SC2086
st2=$(cron ukr2 $C -o token_store=user -d --scope "$GRAPH/User.Read")
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "$(counts | cut -d' ' -f1,3)" = "0 1" ] &&
    grep -q "kept in the user keyring" "$out/ukr2.err"; then
    ok "user_keyring_keeps_the_sign_in (token_store = user)"
else
    fail "user_keyring_keeps_the_sign_in: exits $st1/$st2, counts $(counts): $(cat "$out/ukr2.err")"
fi

# --- no_store_signs_in_every_time_and_says_so_once -------------------------------------
# shellcheck disable=SC2086
st1=$(tty_run none1 $C -o token_store=none --scope "$GRAPH/User.Read")
# shellcheck disable=SC2086
st2=$(cron none2 $C -o token_store=none --scope "$GRAPH/User.Read")
# shellcheck disable=SC2086
st3=$(cron none3 $C -o token_store=none --sign-in)
if [ "$st1" = 0 ] && grep -a -q 'enter the code' "$out/none1.tty" &&
    [ "$(grep -a -c 'every run signs in' "$out/none1.tty")" = 1 ] && [ "$st2" = 7 ] &&
    [ "$(grep -c 'every run signs in' "$out/none2.err")" = 1 ] && [ "$st3" = 4 ]; then
    ok "no_store_signs_in_every_time_and_says_so_once (token_store = none; --sign-in: exit 4)"
else
    fail "no_store_signs_in_every_time_and_says_so_once: exits $st1/$st2/$st3: $(cat "$out/none2.err" "$out/none3.err")"
fi

# --- app_token_is_reused_until_5_minutes_before_expiry --------------------------------------
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/app.key" -out "$work/app.pem" \
    -days 2 -subj /CN=pam_aad-token-cache 2>/dev/null || exit 99
umask 022
jq -n --rawfile pem "$work/app.pem" '{pem: $pem}' >"$work/cert.json"
emu_ctl POST /control/client-cert "$(cat "$work/cert.json")" >/dev/null || exit 99
APP="$C --app --certificate $work/app.pem --key $work/app.key"
reset_counts
# shellcheck disable=SC2086
st1=$(cron app1 $APP --scope "$API/.default")
# shellcheck disable=SC2086
st2=$(cron app2 $APP --scope "$API/.default")
n2=$(counts | cut -d' ' -f4)
emu_ctl POST /control/api '{"app_token_lifetime":302}' >/dev/null
# shellcheck disable=SC2086
st3=$(cron app3 $APP --scope "$GRAPH/.default")
# shellcheck disable=SC2086
st3b=$(cron app3b $APP --scope "$GRAPH/.default")
n3=$(counts | cut -d' ' -f4)
emu_ctl POST /control/api '{"app_token_lifetime":0}' >/dev/null
if [ "$st1$st2$st3$st3b" = 0000 ] && cmp -s "$out/app1.out" "$out/app2.out" && [ "$n2" = 1 ] &&
    [ "$n3" = 2 ] && cmp -s "$out/app3.out" "$out/app3b.out"; then
    ok "app_token_is_reused_until_5_minutes_before_expiry (per scope: 1 request for 2 runs each)"
else
    fail "app_token_is_reused_until_5_minutes_before_expiry: exits $st1$st2$st3$st3b, requests $n2/$n3: $(cat "$out/app1.err" "$out/app3.err")"
fi
# An API token that dies in 302 s is kept 2 s at most.
# shellcheck disable=SC2086
cron appout $C --sign-out >/dev/null
emu_ctl POST /control/api '{"app_token_lifetime":302}' >/dev/null
# shellcheck disable=SC2086
cron app4 $APP --scope "$API/.default" >/dev/null
# shellcheck disable=SC2086
cron app4b $APP --scope "$API/.default" >/dev/null
sleep 3
reset_counts
# shellcheck disable=SC2086
st=$(cron app5 $APP --json --scope "$API/.default")
emu_ctl POST /control/api '{"app_token_lifetime":0}' >/dev/null
if [ "$st" = 0 ] && [ "$(counts | cut -d' ' -f4)" = 1 ] && [ "$(jq -r '.expires_in > 300' "$out/app5.out")" = true ]; then
    ok "app token with less than 5 minutes left is not printed: fetched anew"
else
    fail "app token near expiry: exit $st, counts $(counts), $(jq -c 'del(.access_token)' "$out/app5.out" 2>/dev/null)"
fi

# --- app_token_waits_out_a_429 --------------------------------------------------------
emu_ctl POST /control/fault '{"endpoint":"client_credentials","status":429,"body":"{\"error\":\"temporarily_unavailable\"}","headers":{"Retry-After":"2"}}' >/dev/null
reset_counts
t0=$(date +%s%N)
# shellcheck disable=SC2086
st=$(cron throttled $APP --scope "https://graph.microsoft.com/.default" -o token_store=none)
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$st" = 0 ] && [ "$ms" -ge 2000 ] && [ "$(counts | cut -d' ' -f4)" = 2 ] &&
    grep -q "asks to wait 2 s" "$out/throttled.err"; then
    ok "app_token_waits_out_a_429 (Retry-After 2: second request after $ms ms)"
else
    fail "app_token_waits_out_a_429: exit $st in $ms ms, counts $(counts): $(cat "$out/throttled.err")"
fi

# --- url_is_whole_at_80_columns ----------------------------------------------------------
if command -v tmux >/dev/null 2>&1; then
    emu_ctl POST /control/auto-approve '{"cancel":true}' >/dev/null
    sock="$work/tmux"
    tmux -S "$sock" new-session -d -x 80 -y 24 \
        "'$AAD_LOGIN' token $C -o token_store=none -o qr=no --scope api://aad-emulator-api/Data.Read.With.A.Rather.Long.Name >/dev/null; sleep 30"
    i=0
    while [ $i -lt 50 ] && ! tmux -S "$sock" capture-pane -p | grep -q 'enter the code'; do
        sleep 0.1
        i=$((i + 1))
    done
    tmux -S "$sock" capture-pane -p >"$out/screen.txt"
    tmux -S "$sock" kill-server 2>/dev/null
    if grep -q '^https://login.microsoft.com/device *$' "$out/screen.txt" &&
        [ "$(awk '{ if (length($0) > 80) n++ } END { print n + 0 }' "$out/screen.txt")" = 0 ]; then
        ok "url_is_whole_at_80_columns"
    else
        fail "url_is_whole_at_80_columns: $(cat "$out/screen.txt")"
    fi
else
    echo "skipped: url_is_whole_at_80_columns (no tmux)"
fi

# --- nothing_of_the_tokens_is_written_under_home_tmp_or_var -------------------------------
# Needles: every refresh token the emulator issued, every access token printed.
emu_ctl GET /control/refresh | jq -r '.refresh_tokens[].refresh_token' >"$work/needles"
for f in "$out"/*.out; do
    jq -r '.access_token // .accessToken // empty' "$f" 2>/dev/null || cat "$f"
done | grep -E '^eyJ' >>"$work/needles"
n=$(wc -l <"$work/needles")
found=$(find "$work/home" /tmp /var -xdev -type f -newer "$work/started" -size -20M 2>/dev/null |
    grep -v -F -e "$out/" -e "$work/needles" | while read -r f; do
        grep -a -l -F -f "$work/needles" "$f" 2>/dev/null
    done)
if [ "$n" -ge 10 ] && [ -z "$found" ]; then
    ok "nothing_of_the_tokens_is_written_under_home_tmp_or_var ($n tokens looked for)"
else
    fail "nothing_of_the_tokens_is_written_under_home_tmp_or_var: $n needles; found in: $found"
fi

[ "$rc" = 0 ] && echo "PASS: aad-login token signs in once and serves scripts from the keyring"
exit "$rc"
