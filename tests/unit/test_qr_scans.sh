#!/bin/sh
# The terminal QR code scans: pam_aad's rendering of verification URLs
# (Entra's, a national cloud's, a long emulator one), drawn as a dark
# terminal shows it, decodes with zbar to the exact URL. Its quiet zone is
# one module (ISO asks four; every row saved keeps code, QR and prompt on an
# 80x24 screen), so this is the check that it still reads.
set -eu
: "${builddir:=.}"
command -v zbarimg >/dev/null || { echo "SKIP: zbarimg is not installed (apt-get install zbar-tools)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/qr_scans.XXXXXX")
trap 'rm -rf "$T"' EXIT
rc=0
for url in https://login.microsoft.com/device https://microsoft.com/deviceloginus \
    https://127.0.0.1:45123/common/oauth2/deviceauth; do
    for background in 0 4; do
        set +e
        "$builddir/tests/unit/qr_to_pbm" "$url" "$background" >"$T/qr.pbm"
        st=$?
        set -e
        [ "$st" = 77 ] && { echo "SKIP: built without libqrencode"; exit 77; }
        [ "$st" = 0 ] || { echo "FAIL: no QR code for $url"; rc=1; continue; }
        got=$(zbarimg -q --raw "$T/qr.pbm" 2>/dev/null || true)
        if [ "$got" = "$url" ]; then
            echo "ok: $url (background $background)"
        else
            echo "FAIL: $url (background $background) decoded as '$got'"
            rc=1
        fi
    done
done
exit $rc
