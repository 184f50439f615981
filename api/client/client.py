#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Network-mode demo client of capture-appliance (standard library only).

    python3 client.py <IPv4 address> <file destination name>
        [--port 9000] [--name CAPTURE] [--count N] [--seconds S]
        [--token-file FILE] [--tls [--insecure]]

Pulls the pcap stream of a capture in network mode
(GET /api/v1/captures/NAME/packets) into the file. Without --name it takes
the capture that has networkmode on (or the only capture). The file only ever
holds whole records, also when interrupted (Ctrl-C, SIGTERM).
"""
import argparse
import http.client
import ipaddress
import json
import os
import signal
import ssl
import struct
import sys
import urllib.parse

PCAP_FILE_HDR = 24
PCAP_REC_HDR = 16


class PcapCutter:
    """Passes on whole pcap records only (HTTP reads may split them)."""

    def __init__(self, out):
        self.out = out
        self.buf = b""
        self.header_done = False
        self.endian = "<"
        self.records = 0

    def feed(self, data):
        self.buf += data
        if not self.header_done:
            if len(self.buf) < PCAP_FILE_HDR:
                return
            magic = self.buf[:4]
            if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
                self.endian = "<"
            elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
                self.endian = ">"
            else:
                raise ValueError("the server did not send pcap")
            self.out.write(self.buf[:PCAP_FILE_HDR])
            self.buf = self.buf[PCAP_FILE_HDR:]
            self.header_done = True
        off = 0
        while len(self.buf) - off >= PCAP_REC_HDR:
            incl = struct.unpack_from(self.endian + "I", self.buf, off + 8)[0]
            end = off + PCAP_REC_HDR + incl
            if end > len(self.buf):
                break
            off = end
            self.records += 1
        if off:
            self.out.write(self.buf[:off])
            self.buf = self.buf[off:]


DEFAULT_TOKEN = "/run/capture-appliance/api.token"


def connect(args):
    if args.tls:
        ctx = ssl.create_default_context()
        if args.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(args.address, args.port, timeout=args.timeout,
                                           context=ctx)
    return http.client.HTTPConnection(args.address, args.port, timeout=args.timeout)


def headers(token):
    h = {"User-Agent": "capture-appliance-client.py"}
    if token:
        h["Authorization"] = "Bearer " + token
    return h


def error_of(resp):
    body = resp.read()
    try:
        return json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return "HTTP %d %s" % (resp.status, body[:200].decode(errors="replace"))


def pick_capture(args, token):
    conn = connect(args)
    try:
        conn.request("GET", "/api/v1/captures", headers=headers(token))
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(error_of(resp))
        caps = json.loads(resp.read())
    finally:
        conn.close()
    net = [c["name"] for c in caps if c.get("networkmode")]
    if len(net) == 1:
        return net[0]
    if len(caps) == 1:
        return caps[0]["name"]
    raise RuntimeError("%d captures with networkmode on; choose one with --name"
                       % len(net) if net else "no capture in network mode; use --name")


def main(argv=None):
    p = argparse.ArgumentParser(description="Pull packets from a capture-appliance in "
                                "network mode into a pcap file.")
    p.add_argument("address", help="IPv4 address of the appliance")
    p.add_argument("file", help="destination pcap file ('-': stdout)")
    p.add_argument("--port", type=int, default=9000, help="REST port of the appliance (default: 9000)")
    p.add_argument("--name", help="capture name (default: the one in network mode)")
    p.add_argument("--count", type=int, help="stop after N packets")
    p.add_argument("--seconds", type=int, help="stop after S seconds")
    p.add_argument("--token-file", help="file holding the bearer token (default: "
                   "%s, the server's own, when readable: root)" % DEFAULT_TOKEN)
    p.add_argument("--tls", action="store_true", help="HTTPS")
    p.add_argument("--insecure", action="store_true", help="with --tls: don't verify the certificate")
    p.add_argument("--timeout", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    try:
        ipaddress.IPv4Address(args.address)
    except ValueError:
        p.error("%s is not an IPv4 address" % args.address)
    for opt in ("count", "seconds"):
        v = getattr(args, opt)
        if v is not None and v <= 0:
            p.error("--%s must be positive" % opt)
    if not 0 < args.port < 65536:
        p.error("--port out of range")
    token = None
    if not args.token_file and os.access(DEFAULT_TOKEN, os.R_OK):
        args.token_file = DEFAULT_TOKEN
    if args.token_file:
        try:
            with open(args.token_file) as f:
                token = f.read().strip()
        except OSError as e:
            print("client.py: token file: %s" % e, file=sys.stderr)
            return 1

    try:
        name = args.name or pick_capture(args, token)
        query = {}
        if args.count:
            query["count"] = args.count
        if args.seconds:
            query["seconds"] = args.seconds
        path = "/api/v1/captures/%s/packets" % urllib.parse.quote(name, safe="")
        if query:
            path += "?" + urllib.parse.urlencode(query)
        conn = connect(args)
        conn.request("GET", path, headers=headers(token))
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(error_of(resp))
    except OSError as e:
        # say where: a bare "[Errno 111] Connection refused" names no server
        print("client.py: %s:%d: %s" % (args.address, args.port, e.strerror or e),
              file=sys.stderr)
        return 1
    except (RuntimeError, http.client.HTTPException) as e:
        print("client.py: %s" % e, file=sys.stderr)
        return 1

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)  # like Ctrl-C: keep whole records
    try:
        out = sys.stdout.buffer if args.file == "-" else open(args.file, "wb")
    except OSError as e:
        print("client.py: %s" % e, file=sys.stderr)
        conn.close()
        return 1
    cutter = PcapCutter(out)
    status = 0
    try:
        while True:
            data = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not data:
                break
            cutter.feed(data)
            out.flush()
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError, http.client.HTTPException) as e:
        print("client.py: %s" % e, file=sys.stderr)
        status = 1
    finally:
        if not cutter.header_done and status == 0:
            print("client.py: the stream ended before the pcap header", file=sys.stderr)
            status = 1
        if out is not sys.stdout.buffer:
            out.close()
        conn.close()
    if args.file != "-":
        print("client.py: %d packets written to %s" % (cutter.records, args.file),
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
