#!/bin/sh
# test_manpages.sh - the manual pages render cleanly and match the code.
#
#   groff -ww -z -man PAGE      prints nothing (no warnings at all)
#   mandoc -T lint -W warning   reports no warnings or errors
# and, against the sources (src/, sync/, pam/): every key of src/caller/aad_config_keys.c is documented in
# pam_aad.conf(5), every exit code of tools/aad-login.c in aad-login(1),
# every PAM return code of pam/pam_aad.c in pam_aad(8), and the version in
# each .TH line is the one in configure.ac; and doc/admin-guide.md lists
# every message the module can print (checked with perl when present).
#
# Exit: 0 pass, 1 fail, 77 skip (groff or mandoc not installed).
set -eu
: "${top_srcdir:=.}"
doc="$top_srcdir/doc"
pages="pam_aad.8 pam_aad.conf.5 aad-login.1"

for tool in groff mandoc; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed (apt-get install groff mandoc)"; exit 77; }
done

rc=0
fail() { echo "FAIL: $*"; rc=1; }

for p in $pages; do
    f="$doc/$p"
    [ -f "$f" ] || { fail "$f is missing"; continue; }
    out=$(LC_ALL=C.UTF-8 groff -ww -z -man "$f" 2>&1) || fail "groff exited non-zero on $p"
    [ -z "$out" ] || fail "groff -ww on $p:
$out"
    out=$(mandoc -T lint -W warning "$f" 2>&1) || fail "mandoc -T lint on $p:
$out"
    [ -z "$out" ] || fail "mandoc -T lint on $p:
$out"
done

# Every configuration key, as a .BI entry of pam_aad.conf(5).
keys=$(sed -n 's/^ *{"\([a-z_]*\)", K_[A-Z]*,.*/\1/p' "$top_srcdir/src/caller/aad_config_keys.c")
[ -n "$keys" ] || fail "no keys found in src/caller/aad_config_keys.c (has the table changed?)"
for k in $keys; do
    grep -q "^\.BI $k " "$doc/pam_aad.conf.5" || fail "key '$k' is not documented in pam_aad.conf(5)"
done

# Every exit code of aad-login, as a .TP/.B entry of EXIT STATUS.
codes=$(sed -n 's/^ *EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$top_srcdir/tools/aad-login.c")
[ -n "$codes" ] || fail "no exit codes found in tools/aad-login.c"
for c in $codes; do
    grep -q "^\.B $c\$" "$doc/aad-login.1" || fail "exit status $c is not documented in aad-login(1)"
done

# Every PAM return code the module can give.
pamcodes=$(sed -n 's/.*case AAD_[A-Z_]*: return \(PAM_[A-Z_]*\);.*/\1/p' "$top_srcdir/pam/pam_aad.c" | sort -u)
[ -n "$pamcodes" ] || fail "no PAM return codes found in pam/pam_aad.c (pam_code_of)"
for c in $pamcodes; do
    grep -q "^\.B $c\$" "$doc/pam_aad.8" || fail "return value $c is not documented in pam_aad(8)"
done

# The version in the .TH lines.
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
for p in $pages; do
    grep -q "^\.TH .*\"pam_aad $version\"" "$doc/$p" ||
        fail "$p: the .TH line does not name version $version (configure.ac)"
done

# Every message the module and aad-login can print is in the troubleshooting
# table of doc/admin-guide.md: each literal piece (6+ characters) of every
# aad_fail()/aad_log() format, cache/safe-file reason, pam_error/pam_info text.
guide="$doc/admin-guide.md"
if [ ! -f "$guide" ]; then
    fail "$guide is missing"
elif ! command -v perl >/dev/null 2>&1; then
    echo "NOTE: perl is missing: the message coverage of admin-guide.md is not checked"
else
    missing=$(perl -e '
        local $/; open my $g, "<", shift @ARGV or die; my $guide = <$g>;
        my %seen;
        for my $f (@ARGV) {
            open my $h, "<", $f or die "$f: $!"; my $t = <$h>;
            while ($t =~ /(?:aad_fail(?:_as)?\([^,]+,\s*\w+,|aad_log\([^,]+,\s*\w+,|pam_error\(\s*\w+,|pam_info\([^,]+,|snprintf\(out, size,|coded\(out, size,|\*why\s*=\s*(?:[^";]*\?)?|why = )\s*((?:"(?:[^"\\]|\\.)*"\s*(?::\s*)?)+)/g) {
                # "a" "b" is one message; cond ? "a" : "b" are two.
                my @alts = split /"\s*:\s*"/, $1;
                for my $i (0 .. $#alts) {
                    my $alt = ($i > 0 ? "\"" : "") . $alts[$i] . ($i < $#alts ? "\"" : "");
                    my $msg = join "", ($alt =~ /"((?:[^"\\]|\\.)*)"/g);
                    for my $piece (split /%[-.0-9]*(?:ll|l|z)?[sdu]|%\.\d*f/, $msg) {
                        $piece =~ s/^\s+|\s+$//g;
                        next if length($piece) < 6 || $piece eq "is not a directory";
                        print "$f: \"$msg\"\n" if index($guide, $piece) < 0 && !$seen{$msg}++;
                    }
                }
            }
        }' "$guide" "$top_srcdir"/src/*/*.c "$top_srcdir"/sync/*.c "$top_srcdir/pam/pam_aad.c")
    if [ -n "$missing" ]; then
        fail "messages missing from the troubleshooting table of doc/admin-guide.md:
$missing"
    fi
fi

[ "$rc" = 0 ] && echo "PASS: $pages render cleanly and match the code; admin-guide.md lists every message"
exit "$rc"
