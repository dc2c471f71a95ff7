#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An unconnected DNS client for tests/e2e/dns.sh.

    dns_client.py ADDR PORT NAME TYPE [--count N] [--hold SECONDS]
                  [--junk] [--timeout SECONDS]

Sends N queries (A or AAAA) for NAME with sendto() on one socket that is
never connected, and checks that each reply comes from ADDR PORT, matches
the query's ID and answers NAME. Prints one line per reply:
"reply NAME TYPE from ADDR PORT answer ADDRESS". --hold keeps the socket
open that long after the last reply (prints "holding" first). --junk sends
a datagram that is not DNS instead and expects no reply at all.
Exits 0 if everything checked out, 1 otherwise.
"""
import argparse
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28}


def query(ident, name, qtype):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + wire + \
        b"\0" + struct.pack(">HH", qtype, 1)


def first_answer(reply, qlen, family):
    """The address in the first answer (it follows the question)."""
    ancount = struct.unpack(">H", reply[6:8])[0]
    if not ancount or len(reply) < qlen + 12:
        return None
    rdlen = struct.unpack(">H", reply[qlen + 10:qlen + 12])[0]
    rdata = reply[qlen + 12:qlen + 12 + rdlen]
    return socket.inet_ntop(socket.AF_INET if rdlen == 4 else
                            socket.AF_INET6, rdata)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("name")
    p.add_argument("type", choices=TYPES)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--junk", action="store_true")
    p.add_argument("--timeout", type=float, default=5)
    a = p.parse_args()

    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    dst = (a.addr, a.port)
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    if a.junk:
        s.sendto(b"this is not a DNS message", dst)
        try:
            s.recvfrom(65535)
        except socket.timeout:
            print("no reply to junk")
            return 0
        print("error: a reply to junk", file=sys.stderr)
        return 1
    for _ in range(a.count):
        ident = random.randrange(65536)
        q = query(ident, a.name, TYPES[a.type])
        s.sendto(q, dst)
        try:
            reply, src = s.recvfrom(65535)
        except socket.timeout:
            print("error: no reply", file=sys.stderr)
            return 1
        got = first_answer(reply, len(q), family)
        print("reply %s %s from %s %d answer %s" % (a.name, a.type, src[0],
                                                   src[1], got), flush=True)
        if src[:2] != dst:
            print("error: reply from unexpected source %s %d, want %s %d" %
                  (src[0], src[1], dst[0], dst[1]), file=sys.stderr)
            return 1
        if reply[:2] != q[:2] or reply[12:len(q)] != q[12:] or not got:
            print("error: the reply does not answer the query",
                  file=sys.stderr)
            return 1
    if a.hold:
        print("holding", flush=True)
        time.sleep(a.hold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
