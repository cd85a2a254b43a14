# e2e-lib.sh - shared by the end-to-end tests with real sshd, sudo and login.
#
# Each test runs as root inside a private mount namespace, where test copies
# of /etc/pam.d, /etc/passwd, /etc/group, /etc/shadow (and /etc/sudoers) are
# bind-mounted over the real ones: the host's /etc is never changed, and the
# mounts vanish with the namespace. Not root, or no unshare: exit 77 (skip).
set -eu

: "${top_srcdir:=.}" "${builddir:=.}"
E2E_USER=aaduser
E2E_UID=4242
E2E_UPN="$E2E_USER@contoso.example"
PAM_AAD_SO=$(cd "$builddir" && pwd)/pam/.libs/pam_aad.so
PAM_AAD_HELPER=$(cd "$builddir" && pwd)/helper/pam_aad_helper
PAM_AAD_WRITER=$(cd "$builddir" && pwd)/group_writer/pam_aad_group_writer

e2e_skip() { echo "SKIP: $*"; exit 77; }

e2e_require() { # commands...
    [ "$(id -u)" = 0 ] || e2e_skip "needs root (private mount namespace and bind mounts)"
    command -v unshare >/dev/null || e2e_skip "unshare (util-linux) is missing"
    for c in expect "$@"; do
        command -v "$c" >/dev/null || [ -x "$c" ] || e2e_skip "$c is not installed"
    done
    [ -f "$PAM_AAD_SO" ] || { echo "FAIL: $PAM_AAD_SO not built"; exit 1; }
    # A sanitizer build of the module cannot be loaded by the system's own
    # sshd, sudo or login (the ASan runtime must come first): they load the
    # same module built without sanitizers and run the sanitizer-built helper.
    if ldd "$PAM_AAD_SO" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        PAM_AAD_SO=$(cd "$builddir" && pwd)/tests/e2e/.libs/pam_aad_plain.so
        [ -f "$PAM_AAD_SO" ] ||
            e2e_skip "sanitizer build without tests/e2e/pam_aad_plain.so (configure --enable-sanitizers)"
    fi
    unshare --mount true 2>/dev/null || e2e_skip "cannot create a mount namespace here"
}

# e2e_setup: temp dir, emulator, config, user database copies.
e2e_setup() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/pam_aad_e2e.XXXXXX")
    chmod 755 "$T"
    . "$top_srcdir/tests/emulator/emu.sh"
    emu_start --lifetime "${E2E_EMU_LIFETIME:-240}" --interval 1
    trap 'e2e_cleanup' EXIT INT TERM
    umask 022
    mkdir -p "$T/pam.d" "$T/home"
    cp -a /etc/pam.d/. "$T/pam.d/"
    emu_write_config "$T/pam_aad.conf" "cache_dir = $T/cache" "http_timeout = 5" "timeout = 120" \
        "runtime_dir = $T/run"
    cp /etc/passwd "$T/passwd"; cp /etc/group "$T/group"; cp /etc/shadow "$T/shadow"
    echo "$E2E_USER:x:$E2E_UID:$E2E_UID:AAD test user:$T/home:/bin/sh" >>"$T/passwd"
    echo "$E2E_USER:x:$E2E_UID:" >>"$T/group"
    echo "$E2E_USER:*:19000:0:99999:7:::" >>"$T/shadow"
    chmod 640 "$T/shadow"
    chown "$E2E_UID:$E2E_UID" "$T/home"
}

e2e_cleanup() {
    [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null || true
    emu_stop 2>/dev/null || true
    [ -n "${T:-}" ] && rm -rf "$T"
}

# e2e_doc_service NAME: the system's /etc/pam.d/NAME (Debian's stock file)
# with the line of doc/pam.d/NAME added as administrators are told to
# (tests/examples/apply-example.sh), naming our module path and config.
. "$top_srcdir/tests/examples/apply-example.sh"
e2e_doc_service() {
    apply_pam_example "$top_srcdir/doc/pam.d/$1" "/etc/pam.d/$1" >"$T/pam.d/$1.applied" ||
        { echo "FAIL: /etc/pam.d/$1 has no '@include common-auth' line"; exit 1; }
    sed -e "s|pam_aad.so|$PAM_AAD_SO helper=$PAM_AAD_HELPER group_writer=$PAM_AAD_WRITER config=$T/pam_aad.conf|" \
        "$T/pam.d/$1.applied" >"$T/pam.d/$1"
    rm -f "$T/pam.d/$1.applied"
}

# e2e_in_namespace SCRIPT: runs SCRIPT (a file) in a private mount namespace
# with the test files mounted over /etc.
e2e_in_namespace() {
    cat >"$T/enter.sh" <<SH
set -eu
mount --make-rprivate / 2>/dev/null || true
mount --bind "$T/pam.d" /etc/pam.d
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
mount --bind "$T/shadow" /etc/shadow
if [ -f "$T/sudoers" ]; then mount --bind "$T/sudoers" /etc/sudoers; fi
exec sh "$1"
SH
    unshare --mount --propagation private sh "$T/enter.sh"
}

# approve_code CODE UPN: the simulated user signs in on another device.
approve_code() {
    emu_ctl POST /control/approve "{\"user_code\":\"$1\",\"claims\":{\"preferred_username\":\"$2\"}}" >/dev/null
}

# e2e_sshd_config DIR: a host key and DIR/sshd_config for sshd on
# 127.0.0.1:$SSHD_PORT (chosen here below the kernel's ephemeral range,
# 32768 and up, where the emulators of tests running in parallel get their
# ports), keyboard-interactive only through PAM, as doc/sshd_config.d says;
# and DIR/sshd_start.sh, which starts it.
e2e_sshd_config() {
    ssh-keygen -q -t ed25519 -N '' -f "$1/host_key"
    SSHD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
    cat >"$1/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $1/host_key
PidFile $1/sshd.pid
UsePAM yes
PasswordAuthentication no
PubkeyAuthentication no
StrictModes no
PermitRootLogin no
CONF
    # The drop-in from doc/: keyboard-interactive only, grace time >= timeout.
    cat "$top_srcdir/doc/sshd_config.d/pam_aad.conf" >>"$1/sshd_config"
    # For a scenario inside the namespace to source: starts sshd, waits for it.
    cat >"$1/sshd_start.sh" <<SH
mkdir -p /run/sshd
/usr/sbin/sshd -f "$1/sshd_config" -E "$1/sshd.log"
for i in \$(seq 50); do [ -s "$1/sshd.pid" ] && break; sleep 0.1; done
[ -s "$1/sshd.pid" ] || { echo "sshd did not start:"; cat "$1/sshd.log"; exit 1; }
SH
}
