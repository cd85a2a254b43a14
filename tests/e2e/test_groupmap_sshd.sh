#!/bin/sh
# group_map with real sshd and real sudo: a member of the Entra group that
# group_map maps to the local group aadadmins (which sudoers grants ALL)
# logs in over ssh, `id` shows the group and `sudo -n id` works; once
# Entra no longer shows her in the group, her next login takes it away
# and sudo refuses. Once through the token's groups claim, once through
# the groups overage (Microsoft Graph checkMemberGroups). /etc/group and
# /etc/gshadow stay grpck -r clean and unchanged but for the member list.
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/groupmap-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen sudo curl /usr/sbin/grpck
e2e_setup
e2e_doc_service sshd
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 5" "timeout = 120" \
    "group_map = $T/group_map" "scope = openid profile User.Read" "graph_endpoint = $GRAPH_URL"
groupmap_setup_etc
cp "$T/etc/group" "$T/group.before"; cp "$T/etc/gshadow" "$T/gshadow.before"

e2e_sshd_config "$T"
PORT=$SSHD_PORT

# ssh.exp PORT CLAIMS-JSON: logs in, approving with those claims; prints
# what the session's id and sudo say.
cat >"$T/ssh.exp" <<'EXP'
set timeout 60
lassign $argv port claims
spawn ssh -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 \
    aaduser@127.0.0.1 {echo "GROUPS"=[$(id -Gn)]; echo "SUDO"=[$(sudo -n id -u 2>&1)]}
expect {
    -re {Code: ([A-Z0-9-]+).*Press Enter once you have signed in} { set code $expect_out(1,string) }
    timeout { puts "NO-CODE-SHOWN"; exit 2 }
}
exec sh -c ". $::env(top_srcdir)/tests/emulator/emu.sh; emu_ctl POST /control/approve '{\"user_code\":\"$code\",\"claims\":$claims}' >/dev/null"
send "\r"
expect {
    -re {SUDO=\[[^\r\n]*\]} { exit 0 }
    timeout { puts "NO-SHELL"; exit 3 }
    eof { puts "EOF-BEFORE-LOGIN"; exit 3 }
}
EXP

UPN_CLAIM="\"preferred_username\":\"$E2E_UPN\""
OVERAGE="\"groups\":null,\"_claim_names\":{\"groups\":\"src1\"},\"_claim_sources\":{\"src1\":{\"endpoint\":\"https://graph.windows.net/$TENANT_ID/users/$EMU_DEFAULT_OID/getMemberObjects\"}}"
cat >"$T/scenario.sh" <<SH
set -eu
. "$T/sshd_start.sh"
rc=0
login() { # label claims want-group(1/0)
    out=\$(expect "$T/ssh.exp" $PORT "\$2" 2>&1) || { echo "\$out"; echo "FAIL: \$1: no session"; rc=1; return; }
    groups=\$(printf '%s\n' "\$out" | sed -n 's/^GROUPS=\[\(.*\)\].*/\1/p' | tr -d '\r')
    sudo=\$(printf '%s\n' "\$out" | sed -n 's/^SUDO=\[\(.*\)\].*/\1/p' | tr -d '\r')
    case " \$groups " in *" aadadmins "*) in_group=1 ;; *) in_group=0 ;; esac
    [ "\$sudo" = 0 ] && sudo_ok=1 || sudo_ok=0
    if [ \$in_group = \$3 ] && [ \$sudo_ok = \$3 ]; then
        echo "ok: \$1: id -Gn [\$groups], sudo -n id -u [\$sudo]"
    else
        echo "FAIL: \$1: id -Gn [\$groups], sudo -n id -u [\$sudo]"; rc=1
    fi
    grep '^aadadmins:' /etc/group /etc/gshadow | sed 's/^/    /'
    /usr/sbin/grpck -r /etc/group /etc/gshadow || { echo "FAIL: grpck -r after \$1"; rc=1; }
}
login "member of the Entra group (groups claim)" '{$UPN_CLAIM,"groups":["$ADMINS_GROUP_ID"]}' 1
login "removed from the Entra group (groups claim)" '{$UPN_CLAIM,"groups":["11111111-2222-3333-4444-555555555555"]}' 0
. "$top_srcdir/tests/emulator/emu.sh"
emu_ctl POST /control/stats/reset >/dev/null
emu_ctl POST /control/graph/members '{"oid":"$EMU_DEFAULT_OID","groups":["$ADMINS_GROUP_ID"]}' >/dev/null
login "member of the Entra group (overage, Graph)" '{$UPN_CLAIM,$OVERAGE}' 1
emu_ctl POST /control/graph/members '{"oid":"$EMU_DEFAULT_OID","groups":[]}' >/dev/null
login "removed from the Entra group (overage, Graph)" '{$UPN_CLAIM,$OVERAGE}' 0
graph=\$(emu_ctl GET /control/stats | sed -n 's/.*"graph": *\([0-9]*\).*/\1/p')
[ "\${graph:-0}" -ge 2 ] || { echo "FAIL: the overage logins did not ask Graph (\$graph requests)"; rc=1; }
echo "ok: Graph answered \$graph checkMemberGroups requests for the overage logins"
kill \$(cat "$T/sshd.pid")
ls -a /etc | grep -F '.pam_aad.' && { echo "FAIL: temporary files left in /etc"; rc=1; }
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL GRAPH_URL top_srcdir
if groupmap_in_namespace "$T/scenario.sh"; then
    for f in group gshadow; do
        if ! cmp -s "$T/$f.before" "$T/etc/$f"; then
            echo "FAIL: $f differs from before beyond the member list"; diff "$T/$f.before" "$T/etc/$f"; exit 1
        fi
    done
    echo "PASS: group_map grants and revokes sudo over ssh (groups claim and overage)"
else
    echo "--- sshd log"; cat "$T/sshd.log" || true
    exit 1
fi
