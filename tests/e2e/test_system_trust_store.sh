#!/bin/sh
# Without ca_file, the helper trusts the system store: the hashed directory
# (AAD_SYSTEM_CA_DIR, /etc/ssl/certs here) when it holds hashed names, the
# bundle in it only when it holds none. Each case runs in a private mount
# namespace with a test directory bind-mounted over /etc/ssl/certs, and a
# whole login through pam_aad.so and its confined helper (pamtester):
#  - the emulator's CA reachable by its hash alone (no bundle): logged in;
#  - another CA hashed there, the emulator's CA only in the bundle beside
#    it: refused before any request (the bundle is not read when the
#    directory is used), as with only the other CA;
#  - no hashed names, the emulator's CA in the bundle: logged in (fallback).
. "${top_srcdir:-.}/tests/e2e/e2e-lib.sh"
e2e_require pamtester openssl curl
SYSTEM_CA_DIR=$(sed -n 's/^#define AAD_SYSTEM_CA_DIR "\(.*\)"$/\1/p' "$builddir/config.h")
[ -n "$SYSTEM_CA_DIR" ] || { echo "FAIL: AAD_SYSTEM_CA_DIR not in config.h"; exit 1; }
e2e_setup
emu_stop || true
emu_start --lifetime 240 --interval 1 --auto-approve-after 0 \
    --approve-claims "{\"preferred_username\":\"$E2E_UPN\"}"
# The configuration an administrator writes without ca_file.
emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 5" \
    "wait_for_enter = no" "qr = no"
sed -i '/^ca_file =/d' "$T/pam_aad.conf"
echo "auth required $PAM_AAD_SO helper=$PAM_AAD_HELPER config=$T/pam_aad.conf" >"$T/pam.d/aad-trust"

# A CA that signed nothing the emulator serves.
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=pam_aad test: some other CA" \
    -keyout "$T/other.key" -out "$T/other.pem" -days 2 2>/dev/null
make_dir() { # NAME HASHED-PEM|- BUNDLE-PEM|-
    mkdir -p "$T/$1"
    [ "$2" = - ] || { cp "$2" "$T/$1/ca.pem"; openssl rehash "$T/$1"; }
    [ "$3" = - ] || cp "$3" "$T/$1/ca-certificates.crt"
    chmod -R a+rX "$T/$1"
}
make_dir emu-hashed "$CA_FILE" -
make_dir other-hashed-emu-bundle "$T/other.pem" "$CA_FILE"
make_dir other-hashed "$T/other.pem" -
make_dir bundle-only - "$CA_FILE"
ls "$T/emu-hashed" | grep -q '^[0-9a-f]\{8\}\.0$' || { echo "FAIL: openssl rehash made no hash link"; exit 1; }

devicecodes() {
    emu_ctl GET /control/stats | sed -n 's/.*"devicecode": *\([0-9]*\).*/\1/p'
}

# login_with DIR: 0 when pamtester's login succeeds with DIR over the system store.
login_with() {
    cat >"$T/scenario.sh" <<SH
set -eu
mount --bind "$T/$1" "$SYSTEM_CA_DIR"
pamtester -v aad-trust $E2E_USER authenticate
SH
    e2e_in_namespace "$T/scenario.sh" >"$T/out.txt" 2>&1
}

rc=0
expect_login() { # DIR
    if login_with "$1"; then
        echo "PASS: $1: logged in"
    else
        echo "FAIL: $1: refused"; cat "$T/out.txt"; rc=1
    fi
}
expect_refusal() { # DIR
    before=$(devicecodes)
    if login_with "$1"; then
        echo "FAIL: $1: logged in"; cat "$T/out.txt"; rc=1
    elif [ "$(devicecodes)" != "$before" ]; then
        echo "FAIL: $1: refused, but a device-code request got through TLS"; rc=1
    elif ! grep -q 'Authentication service cannot retrieve authentication info' "$T/out.txt"; then
        echo "FAIL: $1: not refused as unavailable"; cat "$T/out.txt"; rc=1
    else
        echo "PASS: $1: refused before any request"
    fi
}
expect_login emu-hashed
expect_refusal other-hashed-emu-bundle
expect_refusal other-hashed
expect_login bundle-only
exit $rc
