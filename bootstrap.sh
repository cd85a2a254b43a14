#!/bin/sh
# Quick start on a fresh Debian 12 machine: installs the build and test
# dependencies (Debian packages only), builds, and runs `make demo` - a
# complete device-code login against the bundled Entra ID emulator.
set -eu
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ]; then as_root=""; else as_root="sudo"; fi
$as_root apt-get update -q
# shellcheck disable=SC2046
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -q $(cat build-deps.txt)
autoreconf -fi
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    --libdir="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
make -j"$(nproc)"
make demo
