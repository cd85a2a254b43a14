# syslog-lib.sh - sourced inside an e2e test's private mount namespace:
# syslog_capture FILE gives the namespace its own /dev, the host's device
# nodes bound into it, plus a /dev/log whose messages (sshd's, sudo's,
# login's, pam_aad's) are appended to FILE, so that a test can assert what
# was logged - and what never was. The host's /dev is not changed: the
# tmpfs over /dev vanishes with the namespace, and so does its own devpts. Needs socat and T.
syslog_capture() {
    mkdir -p "$T/host-dev"
    mount --rbind /dev "$T/host-dev"
    mount -t tmpfs -o mode=0755,size=1m tmpfs /dev
    for _e in "$T"/host-dev/* "$T"/host-dev/.[!.]*; do
        [ -e "$_e" ] || [ -L "$_e" ] || continue
        _n=/dev/${_e##*/}
        case ${_e##*/} in ptmx | pts | log) continue ;; esac
        if [ -L "$_e" ]; then
            cp -P "$_e" "$_n"
        elif [ -d "$_e" ]; then
            mkdir -p "$_n" && mount --rbind "$_e" "$_n"
        else
            : >"$_n" && mount --bind "$_e" "$_n"
        fi
    done
    # Terminals from a devpts of the namespace's own (a ptmx bound from the
    # host's /dev would look for its pts beside the host's node).
    mkdir -p /dev/pts
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
    ln -s pts/ptmx /dev/ptmx
    : >"$1"
    # No descriptor but 0-2: a lock the test runs under (flock make check)
    # must not outlive the test in a stray listener.
    socat -u UNIX-RECV:/dev/log,mode=0666 "OPEN:$1,append" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    SYSLOG_CAPTURE_PID=$!
    for _i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    [ -S /dev/log ] || { echo "syslog_capture: socat did not listen on /dev/log"; return 1; }
    logger -t e2e "syslog capture started"
}
