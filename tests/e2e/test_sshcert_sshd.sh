#!/bin/sh
# Real OpenSSH with SSH certificates, in a tenant that refuses every
# device-code request (AADSTS530035): `aad-login ssh` signs in "in the
# browser" (the emulator's authorization code flow, followed by curl) and
# writes a key and certificate; plain `ssh -i KEY` then logs in, sshd asking
# pam_aad_sshkeys (AuthorizedKeysCommand, as an unprivileged user that owns
# the cache) as doc/sshd_config.d/pam_aad_sshkeys.conf says. The same
# certificate is refused for another account, and sshd refuses a key the
# token does not commit to, a re-signed certificate, a sign-in older than
# cert_max_age and a guest, each with its reason in the log (the whole list
# of refusals runs the same program in tests/sshcert/test_sshcert_keys.sh).
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require /usr/sbin/sshd ssh ssh-keygen curl jq
KEYS=$(cd "$builddir" && pwd)/sshkeys/pam_aad_sshkeys
AAD_LOGIN=$(cd "$builddir" && pwd)/tools/aad-login
e2e_setup

# The keys program's user (sshd's AuthorizedKeysCommandUser) and a second
# account the certificate does not map to.
echo "aadkeys:x:4243:4243:pam_aad keys:/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
echo "aadother:x:4244:4244:other:$T/home:/bin/sh" >>"$T/passwd"
echo "aadother:*:19000:0:99999:7:::" >>"$T/shadow"
mkdir -m 700 "$T/keys-cache" && chown 4243:4243 "$T/keys-cache"
install -m 644 "$CA_FILE" "$T/ca.pem"
: >"$T/keys.log" && chown 4243 "$T/keys.log"
CA_FILE="$T/ca.pem" emu_write_config "$T/keys.conf" "cache_dir = $T/keys-cache" "http_timeout = 5"
chmod 644 "$T/keys.conf"
printf '#!/bin/sh\nexec curl -s -o /dev/null --noproxy "*" -m 20 --cacert "%s" -L "$1"\n' "$T/ca.pem" >"$T/browser"
chmod 755 "$T/browser"

# Every device-code request is refused, as security defaults do since 2026.
emu_ctl POST /control/fault '{"endpoint":"devicecode","aadsts":530035,"count":-1}' >/dev/null
blocked=$(emu_https "/$TENANT_ID/oauth2/v2.0/devicecode" -d "client_id=$CLIENT_ID&scope=openid" | jq '.error_codes[0]')
[ "$blocked" = 530035 ] || { echo "FAIL: the device code is not blocked ($blocked)"; exit 1; }

emu_ctl POST /control/browser "{\"mode\":\"approve\",\"claims\":{\"preferred_username\":\"$E2E_UPN\"}}" >/dev/null
"$AAD_LOGIN" ssh --config "$T/keys.conf" --key "$T/id_aad" --browser "$T/browser" </dev/null >"$T/client.out" 2>&1 ||
    { echo "FAIL: aad-login ssh"; cat "$T/client.out"; exit 1; }

# Hostile and refused certificates, each to be offered to the real sshd.
FORGE=$(cd "$builddir" && pwd)/tests/sshcert/sshcert_forge
forged() { # NAME MODE [ARG]: $T/NAME-cert.pub, a variant of id_aad's
    echo "ssh-ed25519-cert-v01@openssh.com $(ASAN_OPTIONS=detect_leaks=0 "$FORGE" "$2" "$T/id_aad" "$T/id_aad-cert.pub" ${3:-})" >"$T/$1-cert.pub"
}
forged newkey newkey "$T/newkey" # a key the token's nonce does not commit to
forged resigned resign           # id_aad's certificate signed by another key
for claims in "old:\"iat\":\"now-4000\"" "guest:\"acct\":1"; do
    emu_ctl POST /control/browser "{\"mode\":\"approve\",\"claims\":{\"preferred_username\":\"$E2E_UPN\",${claims#*:}}}" >/dev/null
    "$AAD_LOGIN" ssh --config "$T/keys.conf" --key "$T/${claims%%:*}" --browser "$T/browser" </dev/null >"$T/client.out" 2>&1 ||
        { echo "FAIL: aad-login ssh (${claims%%:*})"; cat "$T/client.out"; exit 1; }
done

e2e_sshd_config "$T"
# The documented drop-in, with this build's program (behind a root-owned
# path, as sshd demands) and the test's keys user.
sed -e 's/^PubkeyAuthentication no/PubkeyAuthentication yes/' \
    -e 's/^AuthenticationMethods .*/AuthenticationMethods publickey keyboard-interactive/' \
    "$T/sshd_config" >"$T/sshd_config.new"
sed -e "s|/usr/libexec/pam_aad/pam_aad_sshkeys|/mnt/pam_aad_sshkeys|" \
    -e "s|_pam_aad$|aadkeys|" "$top_srcdir/doc/sshd_config.d/pam_aad_sshkeys.conf" >>"$T/sshd_config.new"
mv "$T/sshd_config.new" "$T/sshd_config"
PORT=$SSHD_PORT

cat >"$T/scenario.sh" <<SH
set -eu
mount -t tmpfs -o mode=755 tmpfs /mnt
printf '#!/bin/sh\nexec "%s" "config=%s" "\$@" 2>>"%s"\n' "$KEYS" "$T/keys.conf" "$T/keys.log" >/mnt/pam_aad_sshkeys
chmod 755 /mnt/pam_aad_sshkeys
. "$T/sshd_start.sh"
rc=0
ssh_as() { # USER [KEY [CERTIFICATE]]
    ssh -p $PORT -i "\${2:-$T/id_aad}" -o CertificateFile="\${3:-\${2:-$T/id_aad}-cert.pub}" \
        -o IdentitiesOnly=yes -o BatchMode=yes \
        -o PreferredAuthentications=publickey -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "\$1@127.0.0.1" 'echo LOGGED-IN-AS-\$(id -un)' 2>&1
}
refused() { # NAME KEY [CERTIFICATE]
    out=\$(ssh_as aaduser "\$2" "\${3:-}") || true
    case "\$out" in *LOGGED-IN-AS*) echo "\$1: WRONGLY LOGGED IN"; rc=1 ;; *"Permission denied"*) echo "\$1: refused" ;; *) echo "\$1: \$out"; rc=1 ;; esac
}
echo "--- the certificate logs in to aaduser"
out=\$(ssh_as aaduser) || true
echo "\$out"
case "\$out" in *LOGGED-IN-AS-aaduser*) ;; *) rc=1 ;; esac
echo "--- the same certificate is refused for aadother"
out=\$(ssh_as aadother) || true
echo "\$out"
case "\$out" in *LOGGED-IN-AS*) rc=1 ;; *"Permission denied"*) ;; *) rc=1 ;; esac
echo "--- certificates sshd must refuse"
refused key_not_committed "$T/newkey"
refused resigned "$T/id_aad" "$T/resigned-cert.pub"
refused token_too_old "$T/old"
refused guest "$T/guest"
kill \$(cat "$T/sshd.pid")
exit \$rc
SH
export AUTHORITY CA_FILE CONTROL_URL top_srcdir
result=0
e2e_in_namespace "$T/scenario.sh" || result=1
grep -q "Accepted publickey for aaduser .*ID $E2E_UPN" "$T/sshd.log" ||
    { echo "FAIL: sshd did not log the certificate's key ID"; result=1; }
grep -q "accepted certificate for aaduser: upn=$E2E_UPN" "$T/keys.log" ||
    { echo "FAIL: no acceptance line"; result=1; }
for reason in "which is account aaduser, not aadother \[wrong-account\]" \
    "the token's nonce does not commit to the certificate's key and salt" \
    "the certificate is signed by another key than its own" \
    "more than cert_max_age (3600 s)" "guest accounts are not accepted"; do
    grep -q "refused certificate for aad.*$reason" "$T/keys.log" ||
        { echo "FAIL: no refusal line '$reason'"; result=1; }
done
if [ $result = 0 ]; then
    echo "PASS: ssh with a certificate carrying the sign-in while the device code is blocked; another account, an uncommitted key, a re-signed certificate, an old sign-in and a guest refused"
else
    echo "--- sshd log"; cat "$T/sshd.log" || true
    echo "--- keys log"; cat "$T/keys.log" || true
    exit 1
fi
