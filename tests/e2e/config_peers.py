#!/usr/bin/env python3
# The peers of tests/e2e/config.sh, on loopback only:
#   config_peers.py serve PORT:LABEL...   each port answers its label, once
#                                         a connection, and closes it
#   config_peers.py client PORT STOPFILE  connects to 127.0.0.1:PORT again
#                                         and again until STOPFILE exists;
#                                         prints how often each label came
#                                         back ("E": the connect failed)
import collections
import os
import selectors
import socket
import sys


def serve(specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        port, label = spec.split(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(port)))
        s.listen(512)
        sel.register(s, selectors.EVENT_READ, label.encode())
    print("ready", flush=True)
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
