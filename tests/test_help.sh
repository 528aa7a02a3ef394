#!/usr/bin/env bash
# test_help.sh HIRESTYLE — `hirestyle --help` and every command's --help
# (the commands as `hirestyle --help` lists them) exit 0, say "usage:", and
# fit an 80-column terminal: no line is longer than 80 characters.
set -uo pipefail
bin=$1
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

commands=$("$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ "$(echo "$commands" | wc -w)" -ge 9 ] || fail "hirestyle --help lists only: $commands"
for command in "" $commands; do
    out=$("$bin" $command --help 2>&1) || fail "hirestyle $command --help exited $?"
    grep -q "usage: hirestyle" <<<"$out" || fail "hirestyle $command --help: no usage line"
    long=$(awk 'length($0) > 80 { print "    " length($0) ": " $0 }' <<<"$out")
    [ -z "$long" ] || fail "hirestyle $command --help has lines over 80 columns:
$long"
done
[ $failed -eq 0 ] && echo "every --help fits 80 columns"
exit $((failed > 0))
