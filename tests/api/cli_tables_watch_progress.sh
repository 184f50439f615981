#!/bin/bash
# The CLI's output for people:
# - show (all: one aligned line per capture; one: aligned "key value" lines
#   with the counters under "stats:"), stats and files print tables; --json
#   prints the server's JSON; show NAME FIELD prints the bare value (--json:
#   the JSON value);
# - stats --watch 1 --count 3 prints a header and 3 lines of rates while
#   traffic flows (the written/s add up to more than zero, every field is a
#   number); --watch with --json is a usage error;
# - get NAME FILE -w OUT downloads a sealed file and dump NAME -w OUT the
#   current one, byte for byte; a refused download leaves no file;
# - long transfers show progress on a terminal (run under script(1), a
#   pty) and print only their summary when stderr is a file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
api_init "$1" ct
O=$API_TMP/out
E=$API_TMP/err
ok() { api_cli "$@" >"$O" 2>"$E" || api_fail "'$*' failed: $(cat "$E")"; }
no()
{
	local want=$1 msg=$2 rc=0
	shift 2
	api_cli "$@" >"$O" 2>"$E" || rc=$?
	[ "$rc" = "$want" ] || api_fail "'$*': exit $rc, want $want ($(cat "$E"))"
	grep -qF -- "$msg" "$E" || api_fail "'$*': stderr '$(cat "$E")' lacks '$msg'"
}

api_start --filter "udp port 5555" --mode ingress --rotate-size 64k
api_send 5555 1000 200 5000
wait_stat first written 1000

# show: the captures as a table whose columns line up
ok show
head -1 "$O" | grep -q '^name  *iface  *capture  *snaplen .* filter$' || api_fail "show header: $(cat "$O")"
hdr=$(head -1 "$O")
row=$(grep '^first ' "$O") || api_fail "show: no row for first: $(cat "$O")"
prefix=${hdr%%filter}
[ "${row:${#prefix}}" = "udp port 5555" ] || api_fail "show: filter column not aligned:
$hdr
$row"
prefix=${hdr%%snaplen*}
read -r snaplen _ <<<"${row:${#prefix}}"
[ "$snaplen" = 262144 ] || api_fail "show: snaplen column says '$snaplen'"
# show NAME: key value lines, counters under stats:
ok show first
grep -Eq '^snaplen +262144$' "$O" || api_fail "show first: $(cat "$O")"
grep -Eq '^filter +udp port 5555$' "$O" || api_fail "show first filter line: $(cat "$O")"
grep -Eq '^stats:$' "$O" || api_fail "show first: no stats: $(cat "$O")"
grep -Eq '^  written +1000$' "$O" || api_fail "show first: no written: $(cat "$O")"
# JSON on request
ok show first --json
BODY=$(cat "$O")
jeq .stats.written 1000
ok show first filter
[ "$(cat "$O")" = "udp port 5555" ] || api_fail "show first filter: $(cat "$O")"
ok show first filter --json
[ "$(cat "$O")" = '"udp port 5555"' ] || api_fail "show first filter --json: $(cat "$O")"
ok stats first
grep -Eq '^written +1000$' "$O" || api_fail "stats: $(cat "$O")"
grep -Eq '^matched +1000$' "$O" || api_fail "stats: $(cat "$O")"
ok stats first --json
BODY=$(cat "$O")
jeq .written 1000

# files: a table; get downloads a sealed one byte for byte
ok files first
head -1 "$O" | grep -Eq '^name +records +bytes +first_ns +last_ns +sealed$' ||
	api_fail "files header: $(cat "$O")"
ok files first --json
BODY=$(cat "$O")
sealed=$(jget '[.[] | select(.sealed)][0].name')
[ -n "$sealed" ] && [ "$sealed" != null ] || api_fail "no sealed file: $BODY"
grep -q "^$sealed " <<<"$(api_cli files first)" || api_fail "files table lacks $sealed"
ok get first "$sealed" -w "$API_TMP/got.pcap"
cmp "$API_TMP/got.pcap" "$API_TMP/$sealed" || api_fail "get: the download differs from $sealed"
grep -q "^capture-appliance: $(stat -c %s "$API_TMP/$sealed") bytes written to" "$E" ||
	api_fail "get summary: $(cat "$E")"
[ "$(grep -c $'\r' "$E")" = 0 ] || api_fail "progress printed to a file: $(cat -A "$E")"
no 1 "no sealed file" get first nosuch.pcap -w "$API_TMP/no.pcap"
[ ! -e "$API_TMP/no.pcap" ] || api_fail "a refused get left a file"
no 2 "Usage" get first -w "$API_TMP/no.pcap"
# dump: the file being written (quiet now: everything is flushed)
current=$(jget '[.[] | select(.sealed | not)][0].name')
ok dump first -w "$API_TMP/cur.pcap"
cmp "$API_TMP/cur.pcap" "$API_TMP/$current" || api_fail "dump: differs from $current"
# on a terminal: progress on stderr
in_cap script -qefc "'$API_BIN' get first '$sealed' -w '$API_TMP/tty.pcap'" "$API_TMP/tty.log" \
	>/dev/null </dev/null || api_fail "get on a pty failed: $(cat "$API_TMP/tty.log")"
grep -Eq 'KiB of 64\.[0-9] KiB \(100%\)' "$API_TMP/tty.log" || api_fail "no progress on a terminal: $(cat -A "$API_TMP/tty.log")"
cmp "$API_TMP/tty.pcap" "$API_TMP/$sealed" || api_fail "get on a pty: differs"

# stats --watch: a header, then one line of rates per second
no 2 "not JSON" stats first --watch 1 --json
no 2 "positive integer" stats first --watch 1 --count 0
api_send 5555 600 200 200 &
snd=$!
ok stats first --watch 1 --count 3
wait "$snd"
[ "$(wc -l <"$O")" = 4 ] || api_fail "watch: want 4 lines: $(cat "$O")"
head -1 "$O" | grep -Eq '^time +seen/s +matched/s +written/s +bytes/s +drops/s$' ||
	api_fail "watch header: $(head -1 "$O")"
tail -n 3 "$O" | grep -Evq '^[0-9]{2}:[0-9]{2}:[0-9]{2}( +[0-9]+){5}$' &&
	api_fail "watch: a line is not time + 5 numbers: $(cat "$O")"
sum=$(tail -n 3 "$O" | awk '{ s += $4 } END { print s }')
((sum > 0)) || api_fail "watch: no written/s while traffic flowed: $(cat "$O")"

# a pull of a count: progress on a terminal, the summary alone otherwise
ok set first networkmode=true
in_cap script -qefc "'$API_BIN' pull first -w '$API_TMP/p1.pcap' --count 30" "$API_TMP/pull.log" \
	>/dev/null </dev/null &
p1=$!
sleep 1.5
api_send 5555 30 100 100
wait "$p1" || api_fail "pull on a pty: $(cat "$API_TMP/pull.log")"
grep -q '/30 packets (' "$API_TMP/pull.log" || api_fail "pull: no progress: $(cat -A "$API_TMP/pull.log")"
grep -q "30 packets (.* bytes) written to" "$API_TMP/pull.log" || api_fail "pull: no summary"
seqs_ok "$API_TMP/p1.pcap" 5555 30
api_cli pull first -w "$API_TMP/p2.pcap" --count 30 2>"$E" &
p2=$!
sleep 1.5
api_send 5555 30 100 100
wait "$p2" || api_fail "pull: $(cat "$E")"
[ "$(cat "$E")" = "capture-appliance: 30 packets ($(stat -c %s "$API_TMP/p2.pcap") bytes) written to $API_TMP/p2.pcap" ] ||
	api_fail "pull, stderr a file: $(cat -A "$E")"
api_alive
api_stop
echo PASS
