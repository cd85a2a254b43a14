#!/bin/sh
# make demo: a complete device-code login against the bundled Entra ID
# emulator. aad-login shows the code and QR; a simulated user approves it
# three seconds later in the emulator; the verified identity is printed.
set -eu
top_srcdir=${top_srcdir:-.}
builddir=${builddir:-.}
AAD_EMULATOR=${AAD_EMULATOR:-$builddir/tests/emulator/aad-emulator}
export AAD_EMULATOR
# The demo signs in to a local account every Debian system has.
DEMO_USER=${DEMO_USER:-nobody}
. "$top_srcdir/tests/emulator/emu.sh"

emu_start --lifetime 120 --interval 1 --auto-approve-after 3 \
    --approve-claims "{\"preferred_username\":\"$DEMO_USER@contoso.example\",\"name\":\"Demo User\"}"
trap 'emu_stop || true; rm -rf "$demo_dir"' EXIT INT TERM
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/pam_aad-demo.XXXXXX")
# The configuration an administrator would write, pointed at the emulator.
# nobody is the overflow uid, which pam_aad maps only when a user_map line
# names it (as it does root, system accounts and uids above UID_MAX).
(umask 022 && printf '%s %s@contoso.example\n' "$DEMO_USER" "$DEMO_USER" >"$demo_dir/user_map")
emu_write_config "$demo_dir/pam_aad.conf" "cache_dir = $demo_dir/cache" "qr = yes" \
    "wait_for_enter = no" "timeout = 60" "user_map = $demo_dir/user_map"

echo "== Entra ID emulator at $AUTHORITY (tenant $TENANT_ID)"
echo "== aad-login --config $demo_dir/pam_aad.conf $DEMO_USER"
echo
"$builddir/tools/aad-login" --config "$demo_dir/pam_aad.conf" "$DEMO_USER"
