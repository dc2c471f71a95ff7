#!/usr/bin/env python3
# The peers of tests/e2e/config.sh, on loopback only:
#   config_peers.py serve LABEL...        a port a label, each answering
#                                         its label once a connection; the
#                                         ports the kernel chose go on the
#                                         first line: "ready PORT..."
#   config_peers.py client PORT STOPFILE  connects to 127.0.0.1:PORT again
#                                         and again until STOPFILE exists;
#                                         prints how often each label came
#                                         back ("E": the connect failed)
import collections
import os
import selectors
import socket
import sys


def serve(labels):
    sel = selectors.DefaultSelector()
    ports = []
    for label in labels:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(512)
        ports.append(str(s.getsockname()[1]))
        sel.register(s, selectors.EVENT_READ, label.encode())
    print("ready " + " ".join(ports), flush=True)
    while True:
        for key, _ in sel.select():
            try:
                c, _ = key.fileobj.accept()
                c.sendall(key.data)
                c.close()
            except OSError:
                pass


def client(port, stopfile):
    seen = collections.Counter()
    while not os.path.exists(stopfile):
        try:
            with socket.create_connection(("127.0.0.1", int(port)), 5) as c:
                seen[c.recv(16).decode() or "empty"] += 1
        except OSError:
            seen["E"] += 1
    print(" ".join("%s=%d" % kv for kv in sorted(seen.items())), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        client(sys.argv[2], sys.argv[3])
