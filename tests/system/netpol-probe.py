#!/usr/bin/env python3
"""Reachability for the NetworkPolicy tests.

  netpol-probe.py probe [--timeout S] NAME=IP:PORT/PROTO...
      Run inside one pod's network namespace: tries every target at once
      (TCP: connect and read the server's answer; UDP: a datagram and its
      answer) and prints "NAME 1" or "NAME 0" per target.

  netpol-probe.py watch SECONDS IP:PORT
      Opens a TCP connection to IP:PORT every 0.1 s for SECONDS, each given
      0.3 s to answer, and prints "N of M answered".

  netpol-probe.py check PORT ACTUAL PODS RULE...
      Compares ACTUAL (lines "FROM TO 0|1", pods as NS/POD) for every pair
      of PODS (comma-separated; a pair missing counts as wrong) with what the
      RULEs expect and prints a truth table of every pair when they differ
      (exit 1).  A RULE is "FROM>TO=0|1", where FROM and TO are "*",
      "NS/*", "*/POD" or "NS/POD"; all pairs start reachable and later
      rules override earlier ones.  A pod always reaches itself: that
      traffic never leaves its network namespace (the upstream suite allows
      loopback too).

  netpol-probe.py explain-check ACTUAL EXPLAIN...
      Compares ACTUAL (as above) with the verdicts of policy/explain, whose
      outputs from every node are the EXPLAIN files: a pair is allowed iff
      the egress side (from the source's node) and the ingress side (from
      the destination's node) both allow.  Prints each pair where they
      differ with what explain said (exit 1); pairs of a pod with itself
      are not compared.
"""
import selectors
import socket
import sys
import time


def probe(args):
    timeout = 1.0
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    sel = selectors.DefaultSelector()
    result = {}
    order = []
    for arg in args:
        name, target = arg.split("=", 1)
        addr, rest = target.rsplit(":", 1)
        port, proto = rest.split("/")
        order.append(name)
        result[name] = 0
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        s = socket.socket(socket.AF_INET, kind)
        s.setblocking(False)
        if proto == "udp":
            s.connect((addr, int(port)))
            try:
                s.send(b"probe\n")
            except OSError:
                continue
        else:
            s.connect_ex((addr, int(port)))
        sel.register(s, selectors.EVENT_READ, name)
    deadline = time.monotonic() + timeout
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            try:
                data = key.fileobj.recv(256)
            except OSError:
                data = b""
            if data:
                result[key.data] = 1
            sel.unregister(key.fileobj)
            key.fileobj.close()
    for name in order:
        print(name, result[name])
    sys.stdout.flush()


def watch(args):
    seconds, target = float(args[0]), args[1]
    addr, port = target.rsplit(":", 1)
    sel = selectors.DefaultSelector()
    tries = answered = 0
    end = time.monotonic() + seconds
    next_try = time.monotonic()
    while time.monotonic() < end or sel.get_map():
        now = time.monotonic()
        if now >= next_try and now < end:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((addr, int(port)))
            sel.register(s, selectors.EVENT_READ, now + 0.3)
            tries += 1
            next_try = now + 0.1
        for key in list(sel.get_map().values()):
            if key.data < now:
                sel.unregister(key.fileobj)
                key.fileobj.close()
        for key, _ in sel.select(0.02):
            try:
                data = key.fileobj.recv(256)
            except OSError:
                data = b""
            answered += bool(data)
            sel.unregister(key.fileobj)
            key.fileobj.close()
    print("%d of %d answered" % (answered, tries))


def matches(pattern, pod):
    pns, ppod = pattern.split("/") if pattern != "*" else ("*", "*")
    ns, name = pod.split("/")
    return pns in ("*", ns) and ppod in ("*", name)


def check(args):
    port, actual_file, rules = args[0], args[1], args[3:]
    pods = args[2].split(",")
    actual = {}
    with open(actual_file) as f:
        for line in f:
            src, dst, v = line.split()
            actual[(src, dst)] = int(v)
    expected = {}
    for src in pods:
        for dst in pods:
            v = 1
            for rule in rules:
                pair, val = rule.split("=")
                frm, to = pair.split(">")
                if matches(frm, src) and matches(to, dst):
                    v = int(val)
            if src == dst:
                v = 1       # A pod reaches itself over its own loopback.
            expected[(src, dst)] = v
    wrong = [k for k in expected if expected[k] != actual.get(k)]
    if not wrong:
        return 0
    print("reachability on %s: expected/actual, X where they differ" % port)
    print("%-8s" % "" + " ".join("%-5s" % p for p in pods))
    for src in pods:
        cells = []
        for dst in pods:
            e, a = expected[(src, dst)], actual.get((src, dst), "?")
            cells.append("%s%s%s " % (e, a, "X" if e != a else " "))
        print("%-8s" % src + " ".join(cells))
    for src, dst in sorted(wrong):
        print("wrong: %s %s" % (src, dst))
    return 1


def explain_check(args):
    actual = {}
    with open(args[0]) as f:
        for line in f:
            src, dst, v = line.split()
            actual[(src, dst)] = int(v)
    sides = {}      # (src, dst) -> {"egress": line, "ingress": line}
    for name in args[1:]:
        pair = None
        with open(name) as f:
            for line in f:
                if " -> " in line and not line.startswith(" "):
                    src, dst = line.split(" -> ")
                    pair = (src.split(" (")[0], dst.split(" (")[0])
                    sides.setdefault(pair, {})
                    continue
                side, _, verdict = line.strip().partition(": ")
                if pair and side in ("egress", "ingress") \
                        and not verdict.startswith("elsewhere"):
                    sides[pair][side] = verdict
    wrong = 0
    for (src, dst), v in sorted(actual.items()):
        if src == dst:
            continue
        got = sides.get((src, dst), {})
        eg, ig = got.get("egress", "?"), got.get("ingress", "?")
        allowed = int(eg.startswith("allow") and ig.startswith("allow"))
        if allowed != v:
            wrong += 1
            print("explain: %s -> %s: probes %s; egress %s; ingress %s"
                  % (src, dst, "reach" if v else "do not reach", eg, ig))
    return 1 if wrong else 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        probe(sys.argv[2:])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "watch":
        watch(sys.argv[2:])
        return 0
    if len(sys.argv) > 3 and sys.argv[1] == "explain-check":
        return explain_check(sys.argv[2:])
    if len(sys.argv) > 4 and sys.argv[1] == "check":
        return check(sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
