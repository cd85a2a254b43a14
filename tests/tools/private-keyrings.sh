# private-keyrings.sh - run a command where every uid's kernel keyrings are
# fresh and vanish with it, so that tests and benchmarks of `aad-login
# token` never touch the host's keyrings (a persistent keyring belongs to a
# user namespace): a new user namespace that maps uids and gids 0..65535 to
# themselves, with its own mount namespace. Root only (the identity map of
# more than one uid needs CAP_SETUID in the parent namespace).
#
#   . tests/tools/private-keyrings.sh
#   in_private_keyrings COMMAND [ARGS...]    exit status of COMMAND; 125 when
#                                             the namespace cannot be made

in_private_keyrings() {
    _pk_fifo=$(mktemp -u "${TMPDIR:-/tmp}/private-keyrings.XXXXXX") || return 125
    mkfifo -m 600 "$_pk_fifo" || return 125
    # The child waits until its maps are written, then becomes COMMAND.
    unshare --user --mount sh -c 'read _ <"$0" && exec "$@"' "$_pk_fifo" "$@" &
    _pk_pid=$!
    _pk_me=$(readlink /proc/self/ns/user)
    _pk_n=0
    while [ "$(readlink "/proc/$_pk_pid/ns/user" 2>/dev/null)" = "$_pk_me" ]; do
        _pk_n=$((_pk_n + 1))
        if [ "$_pk_n" -gt 500 ] || ! kill -0 "$_pk_pid" 2>/dev/null; then
            kill "$_pk_pid" 2>/dev/null
            rm -f "$_pk_fifo"
            return 125
        fi
        sleep 0.01
    done
    if ! { echo '0 0 65536' >"/proc/$_pk_pid/uid_map" && echo '0 0 65536' >"/proc/$_pk_pid/gid_map"; }; then
        kill "$_pk_pid" 2>/dev/null
        rm -f "$_pk_fifo"
        return 125
    fi
    echo go >"$_pk_fifo"
    rm -f "$_pk_fifo"
    wait "$_pk_pid"
}

# reexec_in_private_keyrings SCRIPT ARGS...: for a test that needs them:
# skips (exit 77) when not root or without unshare/setpriv/setsid; runs
# SCRIPT again inside private keyrings (marked by
# AAD_TOKEN_IN_PRIVATE_KEYRINGS) and exits with its status; returns when
# already inside. top_srcdir and builddir go along.
reexec_in_private_keyrings() {
    [ -n "${AAD_TOKEN_IN_PRIVATE_KEYRINGS:-}" ] && return 0
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (private user namespace with several uids)"; exit 77; }
    for _pk_t in unshare setpriv setsid; do
        command -v "$_pk_t" >/dev/null 2>&1 || { echo "SKIP: $_pk_t is not installed"; exit 77; }
    done
    _pk_script=$1
    shift
    AAD_TOKEN_IN_PRIVATE_KEYRINGS=1 top_srcdir=$top_srcdir builddir=$builddir \
        in_private_keyrings sh "$_pk_script" "$@"
    _pk_rc=$?
    [ "$_pk_rc" = 125 ] && echo "SKIP: no private user namespace here" && exit 77
    exit "$_pk_rc"
}
