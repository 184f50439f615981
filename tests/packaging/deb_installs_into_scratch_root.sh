#!/bin/bash
# The Debian package: `cpack -G DEB` from the build tree makes
# capture-appliance_VERSION_amd64.deb with the binary, the unit, the example
# configuration, the man page, the Python client and the OpenAPI document;
# its Depends name the libraries and the run-time compiler and headers, and
# apt (simulating, nothing installed) can satisfy them on this system;
# lintian finds no error or warning; dpkg installs it into a scratch root
# (its own database, maintainer scripts honouring DPKG_ROOT, nothing of this
# system touched), the installed capture-appliance --version runs, and dpkg
# removes it again.
set -euo pipefail
BUILD=$(readlink -f "$1")
VERSION=$2
SRC=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
T=$(mktemp -d "${TMPDIR:-/tmp}/deb.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$T/out" >"$T/cpack.log" 2>&1 ||
	fail "cpack: $(tail -20 "$T/cpack.log")"
DEB=$T/out/capture-appliance_${VERSION}_amd64.deb
[ -f "$DEB" ] || fail "no $(basename "$DEB"); made: $(ls "$T/out")"

# contents
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's#^\./#/#' >"$T/files"
for f in /usr/bin/capture-appliance /lib/systemd/system/capture-appliance@.service \
	/usr/share/doc/capture-appliance/examples/capture-appliance.conf.example \
	/usr/share/man/man8/capture-appliance.8.gz /usr/share/capture-appliance/client.py \
	/usr/share/capture-appliance/openapi.json /usr/share/doc/capture-appliance/copyright \
	/usr/lib/x86_64-linux-gnu/wireshark/extcap/capture-appliance-extcap; do
	grep -qxF "$f" "$T/files" || fail "the package lacks $f"
done
# dependencies: the linked libraries (dpkg-shlibdeps), libssl3 (loaded for
# TLS), and what compiles filters at run time
deps=$(dpkg-deb -f "$DEB" Depends)
for d in libbpf1 libxdp1 libpcap0.8 liburing2 libcjson1 libcivetweb1 libcap-ng0 \
	libsystemd0 libssl3 libc6 clang libbpf-dev linux-libc-dev; do
	tr ',' '\n' <<<"$deps" | grep -qE "^ *$d( |$)" || fail "Depends lacks $d: $deps"
done
apt-get install -s -o Debug::NoLocking=1 "$DEB" >"$T/apt.log" 2>&1 ||
	fail "apt can't satisfy the Depends: $(tail -20 "$T/apt.log")"
grep -q '^Inst capture-appliance ' "$T/apt.log" || fail "apt: $(tail -5 "$T/apt.log")"

lintian "$DEB" >"$T/lintian.log" 2>&1 || true
grep -E '^[EW]: ' "$T/lintian.log" && fail "lintian errors or warnings (above)"

# a scratch root with its own dpkg database
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/var/log"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
etc_before=$([ -e /etc/capture-appliance ] && echo yes || echo no)
dpkg --root="$R" --force-depends --force-script-chrootless --log="$T/dpkg.log" -i "$DEB" \
	>"$T/inst.log" 2>&1 || fail "dpkg -i: $(cat "$T/inst.log")"
[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status} ${Version}' capture-appliance)" = \
	"install ok installed $VERSION" ] || fail "not installed in the scratch root"
[ -d "$R/etc/capture-appliance" ] || fail "postinst made no $R/etc/capture-appliance"
[ "$etc_before" = yes ] || [ ! -e /etc/capture-appliance ] ||
	fail "postinst touched this system's /etc"
got=$("$R/usr/bin/capture-appliance" --version) || fail "the installed binary does not run"
[ "$got" = "capture-appliance $VERSION" ] || fail "--version: '$got', want 'capture-appliance $VERSION'"
help=$("$R/usr/bin/capture-appliance" start --help)
grep -q -- '--config FILE' <<<"$help" ||
	fail "the installed binary has no --config"
w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \
	"$R/usr/share/man/man8/capture-appliance.8.gz" 2>&1 >/dev/null)
[ -z "$w" ] || fail "the installed man page: $w"
cmp -s "$R/lib/systemd/system/capture-appliance@.service" \
	"$SRC/packaging/systemd/capture-appliance@.service" || fail "installed unit differs"
dpkg --root="$R" --force-script-chrootless --log="$T/dpkg.log" -r capture-appliance \
	>"$T/rm.log" 2>&1 || fail "dpkg -r: $(cat "$T/rm.log")"
[ ! -e "$R/usr/bin/capture-appliance" ] || fail "dpkg -r left the binary"
echo "PASS: $(basename "$DEB") ($(stat -c %s "$DEB") bytes), Depends satisfiable, lintian clean, installed into and removed from a scratch root, --version: $got"
