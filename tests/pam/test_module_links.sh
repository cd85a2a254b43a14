#!/bin/sh
# test_module_links.sh - pam_aad.so links libpam and libc only: libcurl,
# OpenSSL and jansson live in pam_aad_helper, never in the PAM caller's
# process (su, sshd, sudo). Reads the built module's NEEDED entries.
# A sanitizer build adds the compiler's runtimes (libasan, libubsan), which
# are not ours and are left out of the comparison.
set -eu
: "${builddir:=.}"
so="$builddir/pam/.libs/pam_aad.so"
command -v readelf >/dev/null 2>&1 || { echo "SKIP: readelf (binutils) is missing"; exit 77; }
[ -f "$so" ] || { echo "FAIL: $so is not built"; exit 1; }
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    grep -v -E '^lib(asan|ubsan|lsan|tsan)\.so' | sort | tr '\n' ' ')
echo "NEEDED: $needed"
if [ "$needed" = "libc.so.6 libpam.so.0 " ]; then
    echo "PASS: pam_aad.so needs libpam and libc only"
    exit 0
fi
echo "FAIL: pam_aad.so needs more than libpam and libc: $needed"
exit 1
