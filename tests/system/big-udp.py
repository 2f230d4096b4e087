#!/usr/bin/env python3
"""Sends COUNT datagrams of SIZE bytes to ADDR:PORT, each from a new
socket (a new source port), and prints what each gets back (its first
line), or "lost" after 2 s without an answer.  For the tests of datagrams
larger than the MTU, which leave the client as IP fragments.

Usage: big-udp.py ADDR PORT [COUNT [SIZE]]   (defaults: 1, 3000)
"""
import socket
import sys


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"x" * size, (addr, port))
        try:
            print(s.recv(65535).decode().splitlines()[0].strip())
        except (socket.timeout, IndexError):
            print("lost")
        s.close()


if __name__ == "__main__":
    main()
