#!/bin/sh
# Standalone build of the emulator, the test client library and its smoke
# test, without autotools: ./build.sh [OUTDIR]   (default: this directory)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
CC=${CC:-gcc}
CFLAGS=${CFLAGS:-"-O2 -g"}
WARN="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror"
PKGS_EMU="libmicrohttpd jansson openssl"
PKGS_CLI="libcurl jansson"

# shellcheck disable=SC2046,SC2086
$CC $WARN $CFLAGS $(pkg-config --cflags $PKGS_EMU) -pthread \
    -o "$out/aad-emulator" \
    "$here/emulator.c" "$here/emu_crypto.c" "$here/emu_http.c" \
    "$here/emu_endpoints.c" "$here/emu_control.c" \
    "$here/emu_assert.c" "$here/emu_graph.c" "$here/emu_api.c" "$here/emu_refresh.c" \
    "$here/emu_directory.c" \
    $(pkg-config --libs $PKGS_EMU) -pthread

# shellcheck disable=SC2046,SC2086
$CC $WARN $CFLAGS $(pkg-config --cflags $PKGS_CLI) -I"$here" \
    -o "$out/emu_client_test" \
    "$here/emu_client_test.c" "$here/emu_client.c" \
    $(pkg-config --libs $PKGS_CLI)

echo "built $out/aad-emulator $out/emu_client_test"
