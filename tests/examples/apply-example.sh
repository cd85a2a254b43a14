# apply-example.sh - applies a shipped PAM example (doc/pam.d/NAME) to a
# service file exactly as its comment and the guide say: its "auth" lines
# go directly above the first "@include common-auth", its "session" lines
# directly above the first "@include common-session" (below pam_loginuid,
# which gives the login its audit session).
# Sourced by tests/examples/test_examples_keep_stock_lines.sh and
# tests/e2e/e2e-lib.sh, so the e2e tests run the very stack the test checks.

# apply_pam_example EXAMPLE STOCK > RESULT; status 1 when STOCK lacks the
# "@include" line an example's line goes above (not a Debian-style file).
apply_pam_example() {
    awk -v example="$1" '
        BEGIN {
            while ((getline line < example) > 0) {
                if (line ~ /^[ \t]*(#|$)/) continue
                if (line ~ /^[ \t]*session[ \t]/) session = session line "\n"
                else auth = auth line "\n"
            }
        }
        auth != "" && !auth_done && /^@include[ \t]+common-auth[ \t]*$/ { printf "%s", auth; auth_done = 1 }
        session != "" && !session_done && /^@include[ \t]+common-session[ \t]*$/ { printf "%s", session; session_done = 1 }
        { print }
        END { exit (auth == "" || auth_done) && (session == "" || session_done) ? 0 : 1 }
    ' "$2"
}
