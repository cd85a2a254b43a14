# groupmap-lib.sh - for the group_map end-to-end tests: a whole copy of
# /etc, bind-mounted over /etc in the private namespace.
#
# group_map's writer replaces /etc/group and /etc/gshadow by renaming a
# temporary file over them, as the shadow suite does; a rename onto a file
# that is itself a bind mount fails (EBUSY), so these tests mount a copy
# of the directory instead of copies of single files. The host's /etc is
# never changed: everything is in $T/etc and vanishes with the namespace.

ADMINS_GROUP_ID=0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f   # Entra group "Linux admins"
EMU_DEFAULT_OID=4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71   # the emulator's default oid

# groupmap_setup_etc: $T/etc from /etc and e2e_setup's passwd, group,
# shadow; gshadow with the test user's group; a local group aadadmins
# (gid 4300) that $T/etc/sudoers grants everything without a password.
groupmap_setup_etc() {
    mkdir -p "$T/etc"
    cp -a /etc/. "$T/etc/"
    cp "$T/passwd" "$T/etc/passwd"; cp "$T/shadow" "$T/etc/shadow"
    cp "$T/group" "$T/etc/group"
    cp -a /etc/gshadow "$T/etc/gshadow"
    echo "$E2E_USER:!::" >>"$T/etc/gshadow"
    echo "aadadmins:x:4300:" >>"$T/etc/group"
    echo "aadadmins:!::" >>"$T/etc/gshadow"
    rm -rf "$T/etc/pam.d"; cp -a "$T/pam.d" "$T/etc/pam.d"
    printf 'Defaults !lecture\n%%aadadmins ALL=(ALL) NOPASSWD: ALL\n' >"$T/etc/sudoers"
    chmod 0440 "$T/etc/sudoers"
    rm -rf "$T/etc/sudoers.d"
    printf '%s aadadmins\n' "$ADMINS_GROUP_ID" >"$T/group_map"
    chmod 0644 "$T/group_map"
}

# groupmap_in_namespace SCRIPT: runs SCRIPT with $T/etc mounted over /etc.
groupmap_in_namespace() {
    cat >"$T/enter.sh" <<SH
set -eu
mount --make-rprivate / 2>/dev/null || true
mount --bind "$T/etc" /etc
exec sh "$1"
SH
    unshare --mount --propagation private sh "$T/enter.sh"
}

# groupmap_strip_members FILE GROUP: FILE with GROUP's member list emptied
# (to compare everything else byte for byte).
groupmap_strip_members() {
    sed -e "s/^\($2:[^:]*:[^:]*:\).*/\1/" "$1"
}
