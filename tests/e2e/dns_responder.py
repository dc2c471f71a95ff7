#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A tiny DNS responder for tests/e2e/dns.sh (not a real server).

    dns_responder.py LOG ADDR:PORT [ADDR:PORT...]

Answers every query on every address given ("127.0.0.53:5353",
"[::1]:5353"): A with 127.0.0.42, AAAA with ::ffff:127.0.0.42, any other
type with no answer, all NOERROR, TTL 60. Appends one line per query to
LOG: "query NAME TYPE from ADDR PORT on ADDR PORT".
"""
import selectors
import socket
import struct
import sys

A = socket.inet_pton(socket.AF_INET, "127.0.0.42")
AAAA = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.42")
TYPES = {1: "A", 28: "AAAA"}


def question(msg):
    """The first question's (name, type, end), or None if malformed."""
    if len(msg) < 12 or struct.unpack(">H", msg[4:6])[0] == 0:
        return None
    labels, off = [], 12
    while off < len(msg) and msg[off] != 0:
        n = msg[off]
        if n > 63 or off + 1 + n > len(msg):
            return None
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    if off + 5 > len(msg):
        return None
    qtype = struct.unpack(">H", msg[off + 1:off + 3])[0]
    return ".".join(labels).lower() or ".", qtype, off + 5


def answer(msg, q):
    name, qtype, end = q
    rdata = {1: A, 28: AAAA}.get(qtype)
    ident, flags = struct.unpack(">HH", msg[:4])
    flags = 0x8000 | (flags & 0x7900) | 0x0080  # QR, opcode+RD, RA
    hdr = struct.pack(">HHHHHH", ident, flags, 1, 1 if rdata else 0, 0, 0)
    reply = hdr + msg[12:end]
    if rdata:
        # the name is a pointer to the question's, at offset 12
        reply += struct.pack(">HHHIH", 0xc00c, qtype, 1, 60, len(rdata))
        reply += rdata
    return reply


def bind(arg):
    host, port = arg.rsplit(":", 1)
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host.strip("[]"), int(port)))
    return s


def main():
    log = open(sys.argv[1], "a", buffering=1)
    sel = selectors.DefaultSelector()
    for arg in sys.argv[2:]:
        sel.register(bind(arg), selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            msg, peer = s.recvfrom(65535)
            q = question(msg)
            local = s.getsockname()
            if not q:
                log.write("bad query from %s %d\n" % peer[:2])
                continue
            log.write("query %s %s from %s %d on %s %d\n" % (
                q[0], TYPES.get(q[1], "TYPE%d" % q[1]), peer[0], peer[1],
                local[0], local[1]))
            s.sendto(answer(msg, q), peer)


if __name__ == "__main__":
    main()
