# apply-example.sh - applies a shipped PAM example (doc/pam.d/NAME) to a
# service file exactly as its comment and the guide say: its lines that
# are not comments go directly above the first "@include common-auth".
# Sourced by tests/examples/test_examples_keep_stock_lines.sh and
# tests/e2e/e2e-lib.sh, so the e2e tests run the very stack the test checks.

# apply_pam_example EXAMPLE STOCK > RESULT; status 1 when STOCK has no
# "@include common-auth" line (not a Debian-style file).
apply_pam_example() {
    awk -v example="$1" '
        BEGIN {
            while ((getline line < example) > 0)
                if (line !~ /^[ \t]*(#|$)/) add = add line "\n"
        }
        !done && /^@include[ \t]+common-auth[ \t]*$/ { printf "%s", add; done = 1 }
        { print }
        END { exit done ? 0 : 1 }
    ' "$2"
}
