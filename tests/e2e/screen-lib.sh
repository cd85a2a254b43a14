# screen-lib.sh - what a person at a real 80x24 terminal sees: tmux
# terminals driven by send-keys and read by capture-pane, for the e2e tests
# that assert on screens (sourced inside the test's namespace, where tmux,
# sshd, sudo and login run). Needs T (the test's directory); each terminal
# is the tmux session "s$session", and fails counts the screens that never
# showed what they should.
#
# With E2E_SCREENS_DIR set, every screen shown is also kept there.

TMUX_SOCK="$T/tmux.sock"
# The server keeps no descriptor but 0-2 (a lock the test runs under, as
# flock make check holds one, must not outlive the test in it).
tm() { tmux -S "$TMUX_SOCK" "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; }
session=0
fails=0
# A session that lives throughout (no longer than the test could): without
# it the server exits with the last terminal, and the next one could reach
# it while it exits.
tm new-session -d -s keep "sleep 1200"
screen() { tm capture-pane -p -t "s$session"; }

# wait_for TEXT [SECONDS]: until the screen shows TEXT (lines the terminal
# wrapped are joined for the match, and lines a sentence was broken into).
wait_for() {
    _n=$(( ${2:-30} * 5 ))
    while [ $_n -gt 0 ]; do
        tm capture-pane -p -J -t "s$session" | tr '\n' ' ' | grep -qF -- "$1" && return 0
        sleep 0.2
        _n=$((_n - 1))
    done
    return 1
}

# press_enter TEXT: once the prompt TEXT is up (ssh and sudo flush input
# typed before they read a password), as a user would.
press_enter() {
    wait_for "$1" 30 || true
    sleep 0.5
    tm send-keys -t "s$session" Enter
}

# type_line TEXT: types a command line and Enter.
type_line() {
    tm send-keys -t "s$session" "$1" Enter
}

# The code on screen now (the last one shown).
code_on_screen() {
    screen | sed -n 's/.*[Cc]ode:\{0,1\} \([A-Z0-9]\{6,\}\).*/\1/p' | tail -1
}

show() { # NAME: prints the screen (and keeps it)
    echo "=== $1 (80x24)"
    screen | sed 's/^/| /'
    if [ -n "${E2E_SCREENS_DIR:-}" ]; then
        mkdir -p "$E2E_SCREENS_DIR"
        screen >"$E2E_SCREENS_DIR/$1.txt"
    fi
}

expect_screen() { # NAME TEXT [SECONDS]
    if wait_for "$2" "${3:-30}"; then
        show "$1"
    else
        show "$1-FAILED"
        echo "FAIL: $1: the screen never showed: $2"
        fails=$((fails + 1))
    fi
}

start() { # COMMAND: in a new 80x24 terminal (the previous one closed)
    tm kill-session -t "s$session" 2>/dev/null || true
    session=$((session + 1))
    tm new-session -d -x 80 -y 24 -s "s$session" "$1; echo; echo SESSION-ENDED; sleep 60"
}

# terminal N [COMMAND]: switches to terminal N, opening it with COMMAND
# (others stay open: several login sessions at once).
terminal() {
    session=$1
    if [ $# -gt 1 ]; then
        tm new-session -d -x 80 -y 24 -s "s$session" "$2; echo; echo SESSION-ENDED; sleep 60"
    fi
}
