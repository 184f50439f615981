#!/bin/bash
# The archive's client and archiver against a real Swift all-in-one (s3api)
# on loopback: files and their indexes become objects with the same bytes
# and ETag = MD5; the state survives a restart (nothing uploaded twice,
# Swift's X-Timestamp unchanged) and a line cut by a crash; an endpoint
# that is down makes uploads fail, counted and retried, until they arrive;
# a file larger than the part size goes up in parts (S3's multipart ETag);
# wrong credentials, a missing bucket, a planted link are refused.
# Usage: client_and_archiver_against_swift.sh AR_TOOL
set -u
TOOL=$(readlink -f "$1")
source "$(dirname "$0")/swift.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "[$(date +%T.%3N)] $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (Swift's servers switch to the swift user)"
T=$(mktemp -d /tmp/ar-swift.XXXXXX)
SWIFT_NO_TRAP=1
trap 'swift_stop; rm -rf "$T"' EXIT
swift_start || fail "Swift did not start"
log "Swift S3 at $SWIFT_S3"
swift_mkbucket archive-test || fail "bucket"
umask 077
printf 'access_key = %s\nsecret_key = %s\n' "$SWIFT_KEY" "$SWIFT_SECRET" >"$T/cred"
export AR_URL=s3://archive-test/site1 AR_ENDPOINT=$SWIFT_S3 AR_CRED=$T/cred
PFX=site1/sensor1/cap1

"$TOOL" probe | grep -qx "result OK" || fail "probe"

mkdir "$T/dump"
head -c 3000000 /dev/urandom >"$T/dump/f1.pcap"
head -c 12345 /dev/urandom >"$T/dump/f1.pcap.idx"
head -c 1000000 /dev/urandom >"$T/dump/f2.pcap"
: >"$T/dump/f0.pcap" # empty: an object of 0 bytes

log "archive f0 f1 (+ .idx) f2"
"$TOOL" archive "$T/state" sensor1 cap1 60 "$T/dump/f0.pcap" "$T/dump/f1.pcap" "$T/dump/f2.pcap" >"$T/out1" ||
	{ cat "$T/out1"; fail "archive"; }
cat "$T/out1"
grep -q "^uploaded_files 4 uploaded_bytes $((3000000 + 12345 + 1000000)) failures 0 queue 0 archived 3 already 0 gone 0$" "$T/out1" ||
	fail "counters"
for f in f0 f1 f2; do
	grep -q "^archived $PFX/$f.pcap $(stat -c %s "$T/dump/$f.pcap") $(md5sum <"$T/dump/$f.pcap" | cut -c1-32)$" "$T/out1" ||
		fail "on_archived for $f"
	grep -q "^is_archived $T/dump/$f.pcap 1$" "$T/out1" || fail "$f not recorded"
done

log "list and get: the same bytes, ETag = MD5"
"$TOOL" list "$PFX/" >"$T/list" || fail "list"
[ "$(grep -c "^$PFX/" "$T/list")" -eq 4 ] || { cat "$T/list"; fail "listing has not 4 objects"; }
for f in f0.pcap f1.pcap f1.pcap.idx f2.pcap; do
	grep -q "^$PFX/$f $(stat -c %s "$T/dump/$f") $(md5sum <"$T/dump/$f" | cut -c1-32)$" "$T/list" ||
		fail "$f: listing's size or ETag"
	"$TOOL" get "$PFX/$f" "$T/got" >/dev/null || fail "get $f"
	cmp "$T/got" "$T/dump/$f" || fail "$f: downloaded bytes differ"
done
"$TOOL" list "$PFX/f1" | grep -c "^$PFX/f1" | grep -qx 2 || fail "list by prefix"
"$TOOL" get "$PFX/none.pcap" "$T/got" 2>/dev/null | grep -qx "result ENOENT" || fail "get of no object"
ts1=$(swift_head archive-test "$PFX/f1.pcap" | grep -i '^x-timestamp:')

log "restart: nothing uploaded twice"
"$TOOL" archive "$T/state" sensor1 cap1 60 "$T/dump/f0.pcap" "$T/dump/f1.pcap" "$T/dump/f2.pcap" >"$T/out2" || fail "archive again"
grep -q "^uploaded_files 0 .* archived 0 already 3 gone 0$" "$T/out2" || { cat "$T/out2"; fail "uploaded again"; }
[ "$(swift_head archive-test "$PFX/f1.pcap" | grep -i '^x-timestamp:')" = "$ts1" ] || fail "object rewritten"

log "multipart: a file larger than the part size goes up in 5-MiB parts"
big=$((12 * 1048576 + 777))
head -c $big /dev/urandom >"$T/dump/big.pcap"
AR_PART=5242880 "$TOOL" archive "$T/state-mp" sensor1 cap1 120 "$T/dump/big.pcap" >"$T/outm" ||
	{ cat "$T/outm"; fail "multipart archive"; }
grep -q "^uploaded_files 1 uploaded_bytes $big failures 0 queue 0 archived 1 already 0 gone 0$" "$T/outm" ||
	{ cat "$T/outm"; fail "multipart counters"; }
grep -q "^archived $PFX/big.pcap $big $(md5sum <"$T/dump/big.pcap" | cut -c1-32)$" "$T/outm" ||
	fail "multipart: on_archived gives the file's own MD5"
# S3's ETag of a multipart object: the MD5 of the parts' MD5s, then "-3"
want=$(python3 -c '
import hashlib, sys
d = open(sys.argv[1], "rb").read()
ps = [d[i:i + 5242880] for i in range(0, len(d), 5242880)]
print(hashlib.md5(b"".join(hashlib.md5(p).digest() for p in ps)).hexdigest() + "-%d" % len(ps))' "$T/dump/big.pcap")
"$TOOL" list "$PFX/big.pcap" | grep -q "^$PFX/big.pcap $big $want$" ||
	{ "$TOOL" list "$PFX/big.pcap"; fail "multipart: listing's size or ETag (want $want)"; }
"$TOOL" get "$PFX/big.pcap" "$T/got" >/dev/null && cmp "$T/got" "$T/dump/big.pcap" ||
	fail "multipart: downloaded bytes differ"
tsm=$(swift_head archive-test "$PFX/big.pcap" | grep -i '^x-timestamp:')
# a state lost: the object is found there whole (its multipart ETag), not sent again
rm -rf "$T/state-mp"
AR_PART=5242880 "$TOOL" archive "$T/state-mp" sensor1 cap1 120 "$T/dump/big.pcap" >"$T/outm2" ||
	{ cat "$T/outm2"; fail "multipart again"; }
grep -q "^uploaded_files 0 uploaded_bytes 0 failures 0 queue 0 archived 1 " "$T/outm2" ||
	{ cat "$T/outm2"; fail "multipart object sent again"; }
[ "$(swift_head archive-test "$PFX/big.pcap" | grep -i '^x-timestamp:')" = "$tsm" ] ||
	fail "multipart object rewritten"
# a part size S3 refuses is refused before anything is sent
AR_PART=1000 "$TOOL" archive "$T/state-mp" sensor1 cap1 10 "$T/dump/big.pcap" >"$T/outm3" 2>&1 &&
	fail "part size 1000 accepted"
grep -q "S3 part size 1000: 5242880 (5 MiB) to" "$T/outm3" || { cat "$T/outm3"; fail "part size message"; }

log "a state line cut by a crash"
printf 'A 12 0123' >>"$T/state/archived"
head -c 50000 /dev/urandom >"$T/dump/f3.pcap"
"$TOOL" archive "$T/state" sensor1 cap1 60 "$T/dump/f3.pcap" "$T/dump/f2.pcap" >"$T/out3" || fail "archive f3"
grep -q "^uploaded_files 1 .* archived 1 already 1 gone 0$" "$T/out3" || { cat "$T/out3"; fail "after a cut line"; }
[ "$(wc -l <"$T/state/archived")" -eq 4 ] && ! grep -q "0123" "$T/state/archived" || fail "state not repaired"
[ "$(stat -c %a "$T/state")" = 700 ] && [ "$(stat -c %a "$T/state/archived")" = 600 ] || fail "state modes"

log "endpoint down: failures counted, retried, the file arrives"
swift_proxy_stop
head -c 200000 /dev/urandom >"$T/dump/f4.pcap"
"$TOOL" archive "$T/state" sensor1 cap1 90 "$T/dump/f4.pcap" >"$T/out4" 2>"$T/err4" &
tp=$!
sleep 4
swift_proxy_start || fail "proxy restart"
wait "$tp" || { cat "$T/out4" "$T/err4"; fail "archive while down"; }
cat "$T/out4"
grep -Eq "^uploaded_files 1 .* failures [1-9][0-9]* queue 0 archived 1 " "$T/out4" || fail "no failures counted, or not archived"
grep -q "no answer now" "$T/err4" && grep -q "attempt 1" "$T/err4" || { cat "$T/err4"; fail "messages"; }
"$TOOL" get "$PFX/f4.pcap" "$T/got" >/dev/null && cmp "$T/got" "$T/dump/f4.pcap" || fail "f4 after the outage"

log "a planted link and another user's file are not uploaded"
ln -s /etc/hostname "$T/dump/f5.pcap"
head -c 100 /dev/urandom >"$T/dump/f6.pcap"
chown 65534 "$T/dump/f6.pcap"
"$TOOL" archive "$T/state" sensor1 cap1 30 "$T/dump/f5.pcap" "$T/dump/f6.pcap" >"$T/out5" 2>"$T/err5" || fail "archive f5"
grep -q "^uploaded_files 0 uploaded_bytes 0 failures 2 queue 0 archived 0 " "$T/out5" || { cat "$T/out5"; fail "link or foreign file uploaded"; }
grep -q "is_archived $T/dump/f5.pcap 0" "$T/out5" || fail "link recorded"
"$TOOL" list "$PFX/f5" | grep -q "^$PFX/f5" && fail "link uploaded"

log "wrong credentials, no bucket, bad URL: clear messages, no state made"
printf 'access_key = %s\nsecret_key = wrong\n' "$SWIFT_KEY" >"$T/badcred"
AR_CRED=$T/badcred "$TOOL" archive "$T/state2" s c 10 "$T/dump/f1.pcap" >"$T/o6" 2>"$T/e6" && fail "bad credentials accepted"
grep -q "access refused" "$T/e6" && grep -qx "result EACCES" "$T/o6" || { cat "$T/e6"; fail "bad credentials message"; }
AR_URL=s3://no-such-bucket "$TOOL" archive "$T/state2" s c 10 "$T/dump/f1.pcap" >"$T/o7" 2>"$T/e7" && fail "missing bucket accepted"
grep -q "no such bucket" "$T/e7" || { cat "$T/e7"; fail "missing bucket message"; }
AR_URL=s3://Bad_Bucket "$TOOL" archive "$T/state2" s c 10 "$T/dump/f1.pcap" >"$T/o8" 2>"$T/e8" && fail "bad URL accepted"
grep -q "bucket name" "$T/e8" || fail "bad URL message"
chmod 644 "$T/cred"
"$TOOL" archive "$T/state2" s c 10 "$T/dump/f1.pcap" >"$T/o9" 2>"$T/e9" && fail "open credentials accepted"
grep -q "chmod 600" "$T/e9" || fail "open credentials message"
[ ! -e "$T/state2" ] || fail "a refused start made its state folder"
echo PASS
