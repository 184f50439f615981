#!/bin/bash
# A tun device (packets start at the IP header): the filter is compiled for
# raw IP, so filter `udp` matches exactly the UDP packets written into the
# tun (IPv4 and IPv6, among ICMP and TCP ones); the file's link type is RAW
# (101), tcpdump -r and capinfos read it, and the records are the packets
# byte for byte. The host interface (it has an address) is captured
# transparently: the UDP datagrams still reach a socket.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_init "$1" tun

tun=${IT_ID}t
it_cap ip tuntap add dev "$tun" mode tun
it_cap ip addr add 10.77.9.1/24 dev "$tun"
it_cap sysctl -qw "net.ipv6.conf.$tun.disable_ipv6=0"
it_cap ip -6 addr add fd77:9::1/64 dev "$tun" nodad
it_cap ip link set "$tun" up
IT_NO_DUMP=1 it_start --iface "$tun" --name tun --mode ingress --filter udp --dump "$IT_DUMP"
grep -q "capture tun on $tun" "$IT_LOG" || it_fail "no capture on the tun device"

it_cap python3 - "$tun" "$IT_TMP/sent.bin" <<'PY'
import fcntl, os, socket, struct, sys, time
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("10.77.9.1", 7777))
sink.settimeout(0.5)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def ip4(proto, payload, i):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), i, 0, 64, proto, 0,
                    socket.inet_aton("10.77.9.2"), socket.inet_aton("10.77.9.1"))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def udp4(i):
    data = b"udp4-%04d" % i
    u = struct.pack("!HHHH", 40000, 7777, 8 + len(data), 0) + data
    return ip4(17, u, i)

def ip6(nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, "fd77:9::2"),
                       socket.inet_pton(socket.AF_INET6, "fd77:9::1")) + payload

udp = []
with open(sys.argv[2], "wb") as out:
    for i in range(30):
        pkts = [udp4(i),
                ip4(1, struct.pack("!BBHHH", 8, 0, 0, 1, i) + b"ping", i),
                ip4(6, struct.pack("!HHIIBBHHH", 40000, 80, i, 0, 0x50, 2, 1024, 0, 0), i),
                ip6(17, struct.pack("!HHHH", 40001, 7778, 12, 0) + b"udp6")]
        for n, p in enumerate(pkts):
            os.write(fd, p)
            if n in (0, 3):
                out.write(struct.pack("!I", len(p)) + p)
        time.sleep(0.005)
got = 0
try:
    while True:
        sink.recv(100)
        got += 1
except socket.timeout:
    pass
print("delivered", got)
if got != 30:
    sys.exit("the host got %d of 30 UDP datagrams" % got)
PY
sleep 1
it_stop
capinfos -E "$IT_DUMP.pcap" 2>/dev/null | grep -q "File encapsulation: *Raw IP" ||
	it_fail "link type: $(capinfos -E "$IT_DUMP.pcap" 2>&1 | tail -1)"
python3 - "$IT_DUMP.pcap" "$IT_TMP/sent.bin" <<'PY' || it_fail "records differ from the UDP packets sent"
import struct, sys
d = open(sys.argv[1], "rb").read()
assert struct.unpack("<I", d[:4])[0] == 0xa1b23c4d
assert struct.unpack("<I", d[20:24])[0] == 101, "linktype %d" % struct.unpack("<I", d[20:24])[0]
recs, off = [], 24
while off < len(d):
    _, _, incl, orig = struct.unpack("<IIII", d[off:off + 16])
    recs.append(d[off + 16:off + 16 + incl])
    off += 16 + incl
s, sent, off = open(sys.argv[2], "rb").read(), [], 0
while off < len(s):
    n = struct.unpack("!I", s[off:off + 4])[0]
    sent.append(s[off + 4:off + 4 + n])
    off += 4 + n
if sorted(recs) != sorted(sent):
    sys.exit("captured %d records, sent %d UDP packets; equal: %d"
             % (len(recs), len(sent), len(set(recs) & set(sent))))
print("records", len(recs), "= UDP packets sent, byte for byte")
PY
n=$(tcpdump -nr "$IT_DUMP.pcap" 2>/dev/null | wc -l)
[ "$n" = 60 ] || it_fail "tcpdump -r reads $n records, want 60"
it_pass "tun: 60 UDP packets (IPv4+IPv6) of 120 captured, RAW link type, host still served"
