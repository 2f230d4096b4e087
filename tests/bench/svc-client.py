#!/usr/bin/env python3
"""Client side of the Services benchmark, run inside a client pod.

  svc-client.py spread VIP PORT COUNT
      sends one UDP datagram to VIP:PORT from each of COUNT source ports
      (10000 up), so that every datagram is a new connection, paced at
      about 5,000 a second.
  svc-client.py poll VIP PORT
      prints "ready", reads a start time (seconds since the epoch) from
      stdin, then opens a new TCP connection every few milliseconds until
      one is answered; prints the milliseconds from the start time.
  svc-client.py first VIP PORT N
      N new TCP connections, one after another, each answered; prints the
      milliseconds from connect() to the answer of each.
  svc-client.py count VIP PORT N
      N new TCP connections; prints how many each answer had ("-" for
      none), one "COUNT ANSWER" line each.
  svc-client.py sweep FILE PORT
      FILE lists VIPs; tries each in turn until it answers, and prints the
      seconds from start until every one has.
"""
import socket
import sys
import time


def ask(vip, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((vip, port))
        return s.recv(100).strip().decode() or None
    except OSError:
        return None
    finally:
        s.close()


def spread(vip, port, count):
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("", 10000 + i))
            s.sendto(b"x", (vip, port))
        except OSError:
            pass
        s.close()
        # Paced, so that the switch's upcall handling keeps up.
        time.sleep(0.0002)


def poll(vip, port):
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    while not ask(vip, port, 0.02):
        pass
    print("%.1f" % ((time.time() - start) * 1000), flush=True)


def first(vip, port, n):
    for _ in range(n):
        t = time.perf_counter()
        if ask(vip, port, 2) is None:
            print("failed", flush=True)
            continue
        print("%.3f" % ((time.perf_counter() - t) * 1000), flush=True)


def count(vip, port, n):
    seen = {}
    for _ in range(n):
        who = ask(vip, port, 2) or "-"
        seen[who] = seen.get(who, 0) + 1
    for who, c in sorted(seen.items()):
        print(c, who)


def sweep(path, port):
    start = time.time()
    for vip in open(path).read().split():
        while not ask(vip, port, 0.2):
            pass
    print("%.2f" % (time.time() - start), flush=True)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "spread":
        spread(args[0], int(args[1]), int(args[2]))
    elif cmd == "poll":
        poll(args[0], int(args[1]))
    elif cmd == "first":
        first(args[0], int(args[1]), int(args[2]))
    elif cmd == "count":
        count(args[0], int(args[1]), int(args[2]))
    elif cmd == "sweep":
        sweep(args[0], int(args[1]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
