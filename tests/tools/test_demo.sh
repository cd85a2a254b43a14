#!/bin/sh
# test_demo.sh - the README's quick start ends in `make demo`: a whole
# device-code login against the emulator, approved by the simulated user.
# It must keep working as the rules change (it broke once when the overflow
# uid, nobody, came to need a user_map line).
# Exit: 0 pass, 1 fail.
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
out=$(top_srcdir=$top_srcdir builddir=$builddir sh "$top_srcdir/tests/demo.sh" </dev/null 2>&1)
rc=$?
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '^Signed in and verified\.' &&
    printf '%s\n' "$out" | grep -q 'local account: *nobody$'; then
    echo "PASS: make demo signs nobody in and prints the verified identity"
    exit 0
fi
echo "FAIL: make demo (exit $rc):"
printf '%s\n' "$out" | tail -20
exit 1
