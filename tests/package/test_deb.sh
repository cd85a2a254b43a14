#!/bin/sh
# test_deb.sh - the Debian package builds and ships what it must.
#
#  1. Copies the source tree (git-tracked and untracked-but-not-ignored files
#     of a git checkout, else the whole tree followed by "make distclean" in
#     the copy): build outputs of a configured tree never reach the package,
#     and the real tree is never touched.
#  2. dpkg-buildpackage -us -uc -b in the copy.
#  3. Checks the .deb: file list and modes (dpkg-deb -c), the conffile list,
#     that pam_aad.so exports pam_sm_authenticate and pam_sm_setcred only,
#     the man pages, and that lintian reports no errors.
#  4. Runs the packaged aad-login (dpkg-deb -x into a scratch root): the
#     shipped example configuration is refused (exit 4); --check and a whole
#     login succeed against the Entra ID emulator.
#  5. In a private mount namespace, with scratch copies bind-mounted over
#     /etc/pam.d, /etc/security, /var/lib/pam, /usr/share/pam-configs, the
#     PAM module directory, the debconf cache, /etc/passwd and /etc/shadow:
#     installing the profile enables nothing; "pam-auth-update --enable aad"
#     puts pam_aad after pam_unix with default=ignore; with the unfilled
#     configuration a password still logs in (nobody is locked out), and an
#     Entra ID sign-in through common-auth succeeds (pamtester); the prerm's
#     "pam-auth-update --package --remove aad" takes it out again.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, or dpkg-buildpackage, debhelper,
# lintian or the build dependencies missing).
set -eu
: "${top_srcdir:=.}" "${builddir:=.}"
SRC=$(cd "$top_srcdir" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg-deb -x ownership, mount namespace)"
for c in dpkg-buildpackage dpkg-checkbuilddeps dh lintian dpkg-deb nm; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is missing (apt-get install devscripts debhelper lintian binutils)"
done
[ -f "$SRC/debian/control" ] || skip "no debian/ directory in $SRC"

rc=0
fail() { echo "FAIL: $*"; rc=1; }
ok() { echo "ok   $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pam_aad_deb.XXXXXX")
EMU_STARTED=
cleanup() {
    # "|| true": emu_stop's own commands must not trip set -e.
    if [ -n "$EMU_STARTED" ]; then emu_stop >/dev/null 2>&1 || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- 0. static checks: versions and build dependencies ---------------------
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
debversion=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
case $debversion in
"$version"-*) ok "debian/changelog $debversion matches configure.ac $version" ;;
*) fail "debian/changelog version $debversion is not $version-N (configure.ac)" ;;
esac
builddeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$SRC/debian/control" | grep -o 'lib[a-z0-9.+-]*-dev' | sort -u)
for p in $builddeps; do
    grep -qw -- "$p" "$SRC/build-deps.txt" || fail "Build-Depends names $p, which build-deps.txt does not"
done
# The libraries configure cannot do without (it stops naming their package).
for p in $(grep AC_MSG_ERROR "$SRC/configure.ac" | grep -o 'lib[a-z0-9.+-]*-dev' | sort -u); do
    echo "$builddeps" | grep -qx -- "$p" || fail "configure requires $p, which Build-Depends lacks"
done

# --- 1. a clean copy of the sources ------------------------------------------
COPY="$T/pam-aad-$version"
mkdir "$COPY"
if command -v git >/dev/null 2>&1 &&
    [ "$(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$SRC" && pwd -P)" ]; then
    (cd "$SRC" && git ls-files -z -c -o --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$COPY"
    ok "copied the git-tracked and untracked sources of $SRC"
else
    cp -a "$SRC/." "$COPY/"
    chmod -R u+w "$COPY"
    if [ -f "$COPY/Makefile" ]; then
        (cd "$COPY" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make distclean >/dev/null 2>&1) || true
    fi
    ok "copied $SRC (not a git checkout) and cleaned the copy"
fi
rm -rf "$COPY"/*.deb "$COPY/debian/libpam-aad" "$COPY/debian/.debhelper" "$COPY/debian/tmp"

# --- 2. build ------------------------------------------------------------------
if ! (cd "$COPY" && dpkg-checkbuilddeps) >"$T/builddeps.log" 2>&1; then
    cat "$T/builddeps.log"
    skip "build dependencies are missing"
fi
if (cd "$COPY" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    -u CFLAGS -u CPPFLAGS -u LDFLAGS -u top_srcdir -u builddir \
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 1)" \
    dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else
    tail -40 "$T/build.log"
    echo "FAIL: dpkg-buildpackage failed (log above)"
    exit 1
fi
DEB=$(ls "$T"/libpam-aad_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { echo "FAIL: no libpam-aad .deb was built"; exit 1; }
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

# --- 3. contents -----------------------------------------------------------------
dpkg-deb -c "$DEB" >"$T/contents"
# want MODE OWNER PATH
want() {
    if awk -v m="$1" -v o="$2" -v p="./$3" '$1 == m && $2 == o && $6 == p { f = 1 } END { exit !f }' "$T/contents"; then
        ok "$1 $2 /$3"
    else
        fail "the package lacks $1 $2 /$3; it has: $(grep -F " ./$3" "$T/contents" || echo nothing)"
    fi
}
want -rw-r--r-- root/root "usr/lib/$MA/security/pam_aad.so"
want -rwxr-xr-x root/root usr/bin/aad-login
want -rwxr-xr-x root/root usr/libexec/pam_aad/pam_aad_helper
want -rwxr-xr-x root/root usr/libexec/pam_aad/pam_aad_group_writer
want -rwxr-xr-x root/root usr/libexec/pam_aad/aad-login-core
want -rwxr-xr-x root/root usr/libexec/pam_aad/pam_aad_sshkeys
want -rw-r--r-- root/root usr/share/doc/libpam-aad/examples/sshd_config.d/pam_aad_sshkeys.conf
want -rw------- root/root etc/security/pam_aad.conf
want drwx------ root/root var/cache/pam_aad/
want drwx------ root/root var/lib/pam_aad/
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
want -rw-r--r-- root/root "${UNITDIR#/}/pam_aad-sync.service"
want -rw-r--r-- root/root "${UNITDIR#/}/pam_aad-sync.timer"
want -rw-r--r-- root/root usr/share/man/man8/pam_aad.8.gz
want -rw-r--r-- root/root usr/share/man/man5/pam_aad.conf.5.gz
want -rw-r--r-- root/root usr/share/man/man1/aad-login.1.gz
want -rw-r--r-- root/root usr/share/pam-configs/aad
want -rw-r--r-- root/root usr/share/doc/libpam-aad/copyright
if grep -E '\.(la|a)$' "$T/contents"; then fail "libtool archives or static libraries are packaged"; fi

mkdir "$T/ctrl"
dpkg-deb -e "$DEB" "$T/ctrl"
if [ "$(cat "$T/ctrl/conffiles" 2>/dev/null)" = /etc/security/pam_aad.conf ]; then
    ok "conffiles: /etc/security/pam_aad.conf"
else
    fail "conffiles should be exactly /etc/security/pam_aad.conf, not: $(cat "$T/ctrl/conffiles" 2>/dev/null)"
fi

ROOT="$T/root"
dpkg-deb -x "$DEB" "$ROOT"
MODULE="$ROOT/usr/lib/$MA/security/pam_aad.so"
exports=$(nm -D --defined-only "$MODULE" | awk 'NF == 3 { print $3 }' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred " ]; then
    ok "pam_aad.so exports pam_sm_authenticate, pam_sm_setcred and the session pair only"
else
    fail "pam_aad.so exports: $exports"
fi
needed=$(readelf -d "$MODULE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" = "libc.so.6 libpam.so.0 " ]; then
    ok "pam_aad.so needs libpam and libc only (the network lives in pam_aad_helper)"
else
    fail "pam_aad.so needs: $needed"
fi

profile="$ROOT/usr/share/pam-configs/aad"
if grep -qx 'Default: no' "$profile" && grep -qx 'Auth-Type: Primary' "$profile" &&
    ! grep -q 'Additional' "$profile" && grep -q 'default=ignore' "$profile"; then
    ok "pam-auth-update profile: Primary, default=ignore, Default: no"
else
    fail "the pam-auth-update profile must be Primary, default=ignore and Default: no"
fi

lintian "$DEB" >"$T/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$T/lintian.log" || true
if grep -q '^E: ' "$T/lintian.log"; then
    fail "lintian reports errors"
else
    ok "lintian: no errors ($(grep -c '^W: ' "$T/lintian.log" || true) warnings)"
fi

# --- 4. the packaged aad-login --------------------------------------------------
AAD_LOGIN="$ROOT/usr/bin/aad-login"
out=$("$AAD_LOGIN" --check --config "$ROOT/etc/security/pam_aad.conf" 2>&1) && st=0 || st=$?
if [ "$st" = 4 ] && echo "$out" | grep -q "'tenant' is required"; then
    ok "the shipped configuration is refused until filled in (exit 4: $out)"
else
    fail "the shipped configuration should be refused with exit 4, got $st: $out"
fi

. "$SRC/tests/emulator/emu.sh"
EMU_USER=aadpkg
emu_start --lifetime 120 --interval 1 --auto-approve-after 1 \
    --approve-claims "{\"preferred_username\":\"$EMU_USER@contoso.example\",\"name\":\"Package Test\"}" ||
    { echo "FAIL: the emulator did not start"; exit 1; }
EMU_STARTED=yes
case $DOMAIN in contoso.example) ;; *) fail "the emulator's domain is $DOMAIN, not contoso.example" ;; esac
CFG="$T/pam_aad.conf"
emu_write_config "$CFG" "cache_dir = $T/cache" "runtime_dir = $T/run" "http_timeout = 5" "timeout = 60" \
    "wait_for_enter = no" "qr = no"
# The packaged helper where dpkg-deb -x put it (--check makes the module's checks of it).
if out=$("$AAD_LOGIN" --check --config "$CFG" -o "helper=$ROOT/usr/libexec/pam_aad/pam_aad_helper" 2>&1); then
    ok "packaged aad-login --check against the emulator"
else
    fail "packaged aad-login --check failed: $out"
fi
echo "$out" | sed 's/^/     /'
# nobody is above UID_MAX: reachable only through a user_map line naming it.
echo "nobody nobody@contoso.example" >"$T/user_map"
out=$("$AAD_LOGIN" --config "$CFG" -o "user_map=$T/user_map" nobody 2>&1 </dev/null) && st=0 || st=$?
if [ "$st" = 1 ]; then
    ok "packaged aad-login refuses another account's identity (exit 1: $(echo "$out" | tail -1))"
else
    fail "a sign-in as $EMU_USER for the account nobody should exit 1, got $st: $out"
fi

# --- 5. pam-auth-update and a real PAM stack, in a private mount namespace ---
SECDIR=$(realpath "/lib/$MA/security" 2>/dev/null || echo "/usr/lib/$MA/security")
if ! unshare --mount true 2>/dev/null; then
    echo "NOTE: cannot create a mount namespace here: pam-auth-update and PAM checks not run"
elif ! command -v pam-auth-update >/dev/null 2>&1 || ! command -v pamtester >/dev/null 2>&1 ||
    [ ! -d "$SECDIR" ]; then
    echo "NOTE: pam-auth-update, pamtester or $SECDIR missing: PAM checks not run"
else
    N="$T/ns"
    mkdir -p "$N/pam.d" "$N/security" "$N/varlibpam" "$N/pam-configs" "$N/modules" "$N/debconf"
    cp -a /etc/pam.d/. "$N/pam.d/"
    cp -a /etc/security/. "$N/security/"
    cp -a /var/lib/pam/. "$N/varlibpam/" 2>/dev/null || true
    cp -a /usr/share/pam-configs/. "$N/pam-configs/"
    cp -a "$SECDIR/." "$N/modules/"
    cp -a /var/cache/debconf/. "$N/debconf/" 2>/dev/null || true
    cp -p "$MODULE" "$N/modules/pam_aad.so"
    cp -p "$profile" "$N/pam-configs/aad"
    cp -p "$ROOT/etc/security/pam_aad.conf" "$N/security/pam_aad.conf"
    cp -p "$CFG" "$N/emulator.conf"
    cp /etc/passwd "$N/passwd"
    cp /etc/shadow "$N/shadow"
    hash=$(openssl passwd -6 'Pkg-Test-Secret-1')
    echo "$EMU_USER:x:4343:4343:pam_aad package test:/nonexistent:/usr/sbin/nologin" >>"$N/passwd"
    echo "$EMU_USER:$hash:19000:0:99999:7:::" >>"$N/shadow"
    printf '@include common-auth\naccount required pam_permit.so\n' >"$N/pam.d/aad-pkg-test"
    cat >"$N/scenario.sh" <<SH
set -u
mount --make-rprivate / 2>/dev/null || true
mount --bind "$N/pam.d" /etc/pam.d
mount --bind "$N/security" /etc/security
mount --bind "$N/varlibpam" /var/lib/pam
mount --bind "$N/pam-configs" /usr/share/pam-configs
mount --bind "$N/modules" "$SECDIR"
mount --bind "$N/debconf" /var/cache/debconf
mount --bind "$N/passwd" /etc/passwd
mount --bind "$N/shadow" /etc/shadow
# The packaged helper at the path the packaged module executes, beside the
# host's own /usr/libexec (a read-only overlay: nothing of the host changes).
mount -t overlay overlay -o lowerdir="$ROOT/usr/libexec:/usr/libexec" /usr/libexec
export DEBIAN_FRONTEND=noninteractive
r=0
pam-auth-update --package >/dev/null 2>&1
if grep -q pam_aad /etc/pam.d/common-auth; then
    echo "FAIL: installing the profile enabled pam_aad"; r=1
else
    echo "ok   installing the profile (pam-auth-update --package) enables nothing"
fi
pam-auth-update --package --force --enable aad >/dev/null 2>&1
line=\$(grep -n 'pam_aad.so' /etc/pam.d/common-auth || true)
unix=\$(grep -n 'pam_unix.so' /etc/pam.d/common-auth | head -1 | cut -d: -f1)
case \$line in
*default=ignore*) if [ "\${line%%:*}" -gt "\${unix:-0}" ]; then
        echo "ok   pam-auth-update --enable aad: \${line#*:}  (after pam_unix)"
    else echo "FAIL: pam_aad comes before pam_unix: \$line"; r=1; fi ;;
*) echo "FAIL: pam-auth-update --enable aad gave: \$line"; cat /etc/pam.d/common-auth; r=1 ;;
esac
# Unfilled configuration (PAM_SERVICE_ERR): the password still works.
if printf 'Pkg-Test-Secret-1\n' | pamtester aad-pkg-test $EMU_USER authenticate >/dev/null 2>&1; then
    echo "ok   profile enabled, configuration not filled in: the password still logs in"
else echo "FAIL: profile enabled with the shipped configuration locks out a password user"; r=1; fi
if printf 'wrong\n' | pamtester aad-pkg-test $EMU_USER authenticate >/dev/null 2>&1; then
    echo "FAIL: a wrong password was accepted"; r=1
else echo "ok   a wrong password is still refused"; fi
# Filled in: an Entra ID sign-in through common-auth, after pam_unix.
cp -p "$N/emulator.conf" /etc/security/pam_aad.conf
if printf '\n' | pamtester aad-pkg-test $EMU_USER authenticate >"$N/pamtester.out" 2>&1; then
    echo "ok   profile enabled: an Entra ID sign-in through common-auth logs in"
else echo "FAIL: Entra ID sign-in through common-auth failed:"; cat "$N/pamtester.out"; r=1; fi
# The packaged aad-login, a whole sign-in to an existing account.
if "$AAD_LOGIN" --config /etc/security/pam_aad.conf $EMU_USER </dev/null >"$N/aad-login.out" 2>&1 &&
    grep -q 'Signed in and verified' "$N/aad-login.out"; then
    echo "ok   packaged aad-login: a whole sign-in as $EMU_USER@contoso.example"
else echo "FAIL: packaged aad-login sign-in:"; cat "$N/aad-login.out"; r=1; fi
# What the prerm does on removal.
pam-auth-update --package --remove aad >/dev/null 2>&1
if grep -q pam_aad /etc/pam.d/common-auth; then
    echo "FAIL: pam-auth-update --package --remove aad left pam_aad in common-auth"; r=1
else echo "ok   pam-auth-update --package --remove aad (prerm) takes it out again"; fi
exit \$r
SH
    if unshare --mount --propagation private sh "$N/scenario.sh"; then :; else rc=1; fi

    # The postinst, twice, on a private copy of /etc (adduser renames files
    # next to /etc/passwd, which a bind mount of the file alone would not
    # allow), of the cache directory, and of what its "pam-auth-update
    # --package" writes besides /etc: /var/lib/pam and the debconf cache.
    # (Without the last two it rewrote the host's, and test_setuid_callers,
    # running beside it under make -j2, saw the host's /var/lib/pam change.)
    P="$T/postinst"
    mkdir -p "$P/etc" "$P/cache" "$P/varlibpam" "$P/debconf"
    cp -a /etc/. "$P/etc/"
    cp -a /var/lib/pam/. "$P/varlibpam/" 2>/dev/null || true
    cp -a /var/cache/debconf/. "$P/debconf/" 2>/dev/null || true
    host_state() { stat -c '%n %Y %Z' /var/lib/pam/* /var/cache/debconf/* 2>/dev/null; }
    host_state >"$P/host.before"
    cat >"$P/scenario.sh" <<SH
set -u
mount --make-rprivate / 2>/dev/null || true
mount --bind "$P/etc" /etc
mount --bind "$P/varlibpam" /var/lib/pam
mount --bind "$P/debconf" /var/cache/debconf
mkdir -p /var/cache/pam_aad 2>/dev/null || true
mount --bind "$P/cache" /var/cache/pam_aad
export DEBIAN_FRONTEND=noninteractive
r=0
sh "$T/ctrl/postinst" configure >"$P/out" 2>&1 && sh "$T/ctrl/postinst" configure >>"$P/out" 2>&1 ||
    { echo "FAIL: the postinst failed:"; cat "$P/out"; r=1; }
entry=\$(getent passwd _pam_aad || true)
uid=\$(echo "\$entry" | cut -d: -f3)
case "\$entry" in
*:/nonexistent:/usr/sbin/nologin) if [ "\$uid" -lt 1000 ]; then
        echo "ok   postinst: the system account _pam_aad (\$entry)"
    else echo "FAIL: _pam_aad is not a system account: \$entry"; r=1; fi ;;
*) echo "FAIL: postinst made no _pam_aad account: [\$entry]"; r=1 ;;
esac
[ "\$(grep -c '^_pam_aad:' /etc/passwd)" = 1 ] || { echo "FAIL: _pam_aad twice"; r=1; }
if [ "\$(stat -c '%U %a' /var/cache/pam_aad)" = "_pam_aad 700" ]; then
    echo "ok   postinst: /var/cache/pam_aad is _pam_aad's, mode 0700"
else echo "FAIL: /var/cache/pam_aad is \$(stat -c '%U %a' /var/cache/pam_aad)"; r=1; fi
exit \$r
SH
    if unshare --mount --propagation private sh "$P/scenario.sh"; then :; else rc=1; fi
    if host_state | cmp -s "$P/host.before" -; then
        ok "postinst: the host's /var/lib/pam and debconf cache are unchanged"
    else
        fail "postinst changed the host's /var/lib/pam or debconf cache:"; host_state | diff "$P/host.before" - || true
    fi
fi

if [ "$rc" = 0 ]; then
    echo "PASS: $(basename "$DEB") builds, ships the right files and works"
fi
exit "$rc"
