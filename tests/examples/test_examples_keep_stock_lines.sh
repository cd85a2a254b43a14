#!/bin/sh
# test_examples_keep_stock_lines.sh - the shipped examples cannot break a
# stack: each doc/pam.d/NAME, applied to Debian's stock /etc/pam.d/NAME as
# its comment and the guide say (apply-example.sh), adds only its own lines,
# the auth line directly above "@include common-auth" (and for sshd and
# login the session line above "@include common-session", after
# pam_loginuid), and keeps every stock line, in order. The sshd drop-in, put into sshd_config.d beside Debian's stock
# sshd_config (in a private mount namespace), gives the settings pam_aad
# needs (sshd -T) and passes the sshd checks of aad-login --check.
# The e2e tests (tests/e2e) run sshd, sudo and login with these same stacks.
# Exit: 0 pass, 1 fail, 77 skip (no stock file of a Debian package here).
set -u
: "${top_srcdir:=.}" "${builddir:=.}"
. "$top_srcdir/tests/examples/apply-example.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/pam_aad_examples.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
rc=0 tested=0
fail() { echo "FAIL: $*"; rc=1; }

# stock_file PATH: true when PATH is a Debian package's file, unmodified.
stock_file() {
    pkg=$(dpkg-query -S "$1" 2>/dev/null | cut -d: -f1) || pkg=
    if [ -z "$pkg" ]; then
        echo "skip: $1 is no Debian package's file here"
        return 1
    fi
    if dpkg --verify "$pkg" 2>/dev/null | grep -q " $1\$"; then
        echo "skip: $1 differs from $pkg's stock file"
        return 1
    fi
    return 0
}

for name in sshd sudo login; do
    example="$top_srcdir/doc/pam.d/$name" stock="/etc/pam.d/$name"
    stock_file "$stock" || continue
    tested=$((tested + 1))
    grep -v '^[[:space:]]*\(#\|$\)' "$example" >"$T/$name.added"
    grep '^auth' "$T/$name.added" >"$T/$name.auth" || true
    grep '^session' "$T/$name.added" >"$T/$name.session" || true
    want=1
    case $name in sshd | login) want=2 ;; esac # and the session line
    if [ "$(wc -l <"$T/$name.added")" != $want ] || [ "$(wc -l <"$T/$name.auth")" != 1 ] ||
        [ "$(grep -c 'pam_aad\.so' "$T/$name.added")" != $want ]; then
        fail "$example: not one auth line (and for sshd and login one session line) of pam_aad: $(cat "$T/$name.added")"
        continue
    fi
    if ! apply_pam_example "$example" "$stock" >"$T/$name"; then
        fail "$stock has no '@include common-auth' (or common-session) line to put the example above"
        continue
    fi
    diff "$stock" "$T/$name" >"$T/$name.diff"
    if grep -q '^<' "$T/$name.diff"; then
        fail "$name: stock lines lost or changed: $(cat "$T/$name.diff")"
    elif [ "$(grep '^>' "$T/$name.diff" | sed 's/^> //' | sort)" != "$(sort "$T/$name.added")" ]; then
        fail "$name: more than the example's lines added: $(cat "$T/$name.diff")"
    elif [ "$(grep -A1 -xF -f "$T/$name.auth" "$T/$name" | sed -n 2p)" != "@include common-auth" ]; then
        fail "$name: the auth line is not directly above '@include common-auth'"
    elif [ -s "$T/$name.session" ] &&
        [ "$(grep -A1 -xF -f "$T/$name.session" "$T/$name" | sed -n 2p)" != "@include common-session" ]; then
        fail "$name: the session line is not directly above '@include common-session'"
    elif [ -s "$T/$name.session" ] &&
        ! sed -n "/^session.*pam_loginuid/,\$p" "$T/$name" | grep -qxF -f "$T/$name.session"; then
        fail "$name: the session line runs before pam_loginuid (no audit session yet)"
    elif [ "$(wc -l <"$T/$name")" != $(($(wc -l <"$stock") + want)) ]; then
        fail "$name: $(wc -l <"$T/$name") lines, expected the $(wc -l <"$stock") stock lines + $want"
    else
        echo "ok: doc/pam.d/$name on $stock: all $(wc -l <"$stock") stock lines kept, the auth line above @include common-auth$([ $want = 2 ] && echo ', the session line above @include common-session, after pam_loginuid')"
    fi
done

# The sshd drop-in beside Debian's stock sshd_config.
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v unshare >/dev/null; then
    echo "skip: the sshd drop-in (needs root, unshare and openssh-server)"
elif ! grep -qx 'Include /etc/ssh/sshd_config.d/\*.conf' /etc/ssh/sshd_config; then
    echo "skip: /etc/ssh/sshd_config has no Include of sshd_config.d (not Debian's stock file)"
else
    tested=$((tested + 1))
    mkdir -p "$T/sshd_config.d" /run/sshd
    cp "$top_srcdir/doc/sshd_config.d/pam_aad.conf" "$T/sshd_config.d/"
    # An authority nobody answers: only the local checks matter here.
    printf 'tenant = contoso.example\nclient_id = 6f0c2a8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\n' >"$T/conf"
    printf 'authority = https://127.0.0.1:1\ndomains = contoso.example\ncache_dir = %s/cache\n' "$T" >>"$T/conf"
    chmod 600 "$T/conf"
    cat >"$T/ns.sh" <<SH
mount --make-rprivate / 2>/dev/null || true
mount --bind "$T/sshd_config.d" /etc/ssh/sshd_config.d
/usr/sbin/sshd -T -f /etc/ssh/sshd_config >"$T/sshd-T" 2>&1
"$builddir/tools/aad-login" --check --config "$T/conf" --sshd-config /etc/ssh/sshd_config >"$T/check" 2>&1
exit 0
SH
    unshare --mount --propagation private sh "$T/ns.sh"
    for want in "usepam yes" "kbdinteractiveauthentication yes" "logingracetime 420" \
        "authenticationmethods keyboard-interactive" "passwordauthentication no"; do
        grep -qx "$want" "$T/sshd-T" || fail "sshd drop-in: sshd -T lacks '$want': $(head -5 "$T/sshd-T")"
    done
    for want in "^ok   sshd keyboard-interactive" "^ok   sshd LoginGraceTime: LoginGraceTime 420 s covers a login (up to 390 s)"; do
        grep -q "$want" "$T/check" || fail "sshd drop-in: aad-login --check lacks '$want': $(cat "$T/check")"
    done
    grep -q "^FAIL sshd" "$T/check" && fail "sshd drop-in: --check fails an sshd setting: $(grep '^FAIL sshd' "$T/check")"
    [ "$rc" = 0 ] && echo "ok: doc/sshd_config.d/pam_aad.conf beside the stock sshd_config: sshd -T and --check agree"
fi

[ "$tested" = 0 ] && { echo "SKIP: no stock Debian file to apply the examples to"; exit 77; }
[ "$rc" = 0 ] && echo "PASS: the shipped examples keep every stock line"
exit "$rc"
