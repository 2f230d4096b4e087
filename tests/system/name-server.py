#!/usr/bin/env python3
"""A server that answers with a name: every TCP connection on the TCP ports
gets NAME and a newline, then the connection is closed; every UDP datagram
on the UDP ports gets NAME back.  Runs until killed.  For Service tests and
benchmarks, where a client sees which endpoint it reached.

With --peers, the address of every TCP client is written to standard
error as "connect from IP:PORT".

Usage: name-server.py NAME [--tcp PORT]... [--udp PORT]... [--peers]
"""
import argparse
import selectors
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--tcp", type=int, action="append", default=[])
    ap.add_argument("--udp", type=int, action="append", default=[])
    ap.add_argument("--peers", action="store_true")
    args = ap.parse_args()
    answer = (args.name + "\n").encode()

    sel = selectors.DefaultSelector()
    for port in args.tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", port))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for port in args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if key.data == "tcp":
                    conn, peer = s.accept()
                    if args.peers:
                        print("connect from %s:%d" % peer, file=sys.stderr,
                              flush=True)
                    conn.setblocking(True)
                    conn.settimeout(1)
                    conn.sendall(answer)
                    conn.close()
                else:
                    _, peer = s.recvfrom(65535)
                    s.sendto(answer, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
