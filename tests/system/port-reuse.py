#!/usr/bin/env python3
"""Source-port reuse through two Services to one endpoint.

  port-reuse.py VIP_A VIP_B PORT DELAY N

From each of N source ports (in parallel): a TCP connection to VIP_A
(the server answers and closes first, so it keeps TIME_WAIT for 60 s),
then, DELAY seconds later, one from the same source port to VIP_B.
Both reach the same endpoint, so without a new source port from the
switch's NAT the second meets the server's TIME_WAIT.  Prints one line
per port: "PORT FIRST SECOND", each the answer or "failed".
"""
import errno
import socket
import sys
import threading
import time


def ask(vip, port, sport):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    try:
        s.bind(("", sport))
        s.connect((vip, port))
        return s.recv(100).decode().strip() or "failed(empty)"
    except OSError as e:
        # Which step and why: a bind refused is the client's own port in
        # use, a timeout is the network.
        return "failed(%s)" % (type(e).__name__ if e.errno is None
                               else errno.errorcode.get(e.errno, e.errno))
    finally:
        s.close()


def main():
    vip_a, vip_b = sys.argv[1], sys.argv[2]
    port, delay, n = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    lines = []

    def one(sport):
        first = ask(vip_a, port, sport)
        time.sleep(delay)
        lines.append("%d %s %s" % (sport, first, ask(vip_b, port, sport)))

    # Below the kernel's ephemeral range (32768-60999 by default), so that
    # no connection the kernel numbered holds one of these ports, and below
    # the NodePort range (30000-32767).
    threads = [threading.Thread(target=one, args=(20000 + i,))
               for i in range(n)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
