#!/usr/bin/env python3
"""The test bed's cluster DNS: a stand-in for CoreDNS (which Debian does not
package) that answers the names the Kubernetes DNS specification gives
Services and pods, from the API server's Services and Endpoints, polled.

  <svc>.<ns>.svc.<domain>   A: the ClusterIP; headless: the ready endpoint
                            addresses (and the not-ready ones with
                            publishNotReadyAddresses); ExternalName: CNAME
  <host>.<svc>.<ns>.svc.<domain>  A: an endpoint with a hostname
  <a-b-c-d>.<ns>.pod.<domain>     A: a.b.c.d
  _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV of a named port

A name in the domain that does not exist is NXDOMAIN; a known name with
no record of the asked type is an empty NOERROR; names outside the domain
are REFUSED (the test bed has no upstream resolver and sends nothing out).
UDP and TCP.  Not for production: a test fixture.

usage: cluster-dns.py --listen IP --kubeconfig FILE [--domain cluster.local]
                      [--port 53] [--poll SECONDS]
"""
import argparse
import json
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.request

A, NS, CNAME, SOA, PTR, AAAA, SRV = 1, 2, 5, 6, 12, 28, 33
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
TTL = 5


class Records:
    """name -> {qtype: [rdata...]}; names lowercase, without the final dot."""

    def __init__(self, domain):
        self.domain = domain
        self.lock = threading.Lock()
        self.names = {}
        self.ready = False

    def rebuild(self, services, endpoints):
        d = self.domain
        names = {}

        def add(name, qtype, rdata):
            names.setdefault(name.lower(), {}).setdefault(qtype, []).append(
                rdata)

        eps = {(e["metadata"]["namespace"], e["metadata"]["name"]): e
               for e in endpoints}
        for s in services:
            ns = s["metadata"]["namespace"]
            name = s["metadata"]["name"]
            spec = s.get("spec", {})
            fqdn = "%s.%s.svc.%s" % (name, ns, d)
            names.setdefault(fqdn, {})
            kind = spec.get("type", "ClusterIP")
            if kind == "ExternalName":
                add(fqdn, CNAME, spec.get("externalName", "").rstrip("."))
                continue
            ip = spec.get("clusterIP", "")
            if ip and ip != "None":
                add(fqdn, A, ip)
                for p in spec.get("ports", []):
                    if p.get("name"):
                        add("_%s._%s.%s" % (p["name"],
                                            p.get("protocol", "TCP").lower(),
                                            fqdn), SRV,
                            (p["port"], fqdn))
                continue
            # Headless: the endpoints themselves.
            ep = eps.get((ns, name), {})
            for subset in ep.get("subsets", []) or []:
                addrs = list(subset.get("addresses", []) or [])
                if spec.get("publishNotReadyAddresses"):
                    addrs += subset.get("notReadyAddresses", []) or []
                for a in addrs:
                    add(fqdn, A, a["ip"])
                    if a.get("hostname"):
                        host = "%s.%s" % (a["hostname"], fqdn)
                        add(host, A, a["ip"])
                        for p in subset.get("ports", []) or []:
                            if p.get("name"):
                                add("_%s._%s.%s" % (
                                    p["name"],
                                    p.get("protocol", "TCP").lower(), fqdn),
                                    SRV, (p["port"], host))
        with self.lock:
            self.names = names
            self.ready = True

    def lookup(self, qname, qtype):
        """(rcode, [(name, type, rdata)])"""
        q = qname.lower().rstrip(".")
        d = self.domain
        if not (q == d or q.endswith("." + d)):
            return REFUSED, []
        if q.endswith(".pod." + d):
            first = q[:-len(".pod." + d)].split(".")
            parts = first[0].split("-") if len(first) == 2 else []
            if len(parts) == 4 and all(x.isdigit() and int(x) < 256
                                       for x in parts):
                return NOERROR, ([(qname, A, ".".join(parts))]
                                 if qtype == A else [])
            return NXDOMAIN, []
        answers = []
        with self.lock:
            name = q
            for _ in range(8):  # CNAME chains inside the domain
                recs = self.names.get(name)
                if recs is None:
                    if answers:
                        break
                    # An empty non-terminal (svc.<domain>, <ns>.svc...)
                    if any(n.endswith("." + name) for n in self.names) or \
                            name in ("svc." + d, "pod." + d, d):
                        return NOERROR, []
                    return NXDOMAIN, []
                if qtype in recs:
                    answers += [(name, qtype, r) for r in recs[qtype]]
                    break
                if CNAME in recs:
                    target = recs[CNAME][0]
                    answers.append((name, CNAME, target))
                    if not target.lower().endswith("." + d):
                        break
                    name = target.lower()
                    continue
                break
        return NOERROR, answers


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\0"


def parse_question(msg):
    if len(msg) < 12:
        raise ValueError("short")
    pos, labels = 12, []
    while True:
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels), qtype, qclass, pos + 4


def answer(records, msg):
    ident, flags, qd = struct.unpack("!HHH", msg[:6])
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    try:
        if qd != 1 or opcode != 0:
            raise ValueError("unsupported")
        qname, qtype, qclass, end = parse_question(msg)
    except (ValueError, IndexError, struct.error):
        return struct.pack("!HHHHHH", ident, 0x8000 | rd | FORMERR,
                           0, 0, 0, 0)
    question = msg[12:end]
    if not records.ready:
        rcode, ans = SERVFAIL, []
    else:
        rcode, ans = records.lookup(qname, qtype)
    body = b""
    for name, t, rdata in ans:
        if t == A:
            rd_bytes = socket.inet_aton(rdata)
        elif t == CNAME:
            rd_bytes = encode_name(rdata)
        elif t == SRV:
            port, target = rdata
            rd_bytes = struct.pack("!HHH", 0, 100, port) + encode_name(target)
        else:
            continue
        body += encode_name(name) + struct.pack("!HHIH", t, 1, TTL,
                                                len(rd_bytes)) + rd_bytes
    aa = 0x0400 if rcode != REFUSED else 0
    header = struct.pack("!HHHHHH", ident, 0x8000 | aa | rd | 0x0080 | rcode,
                         1, len(ans), 0, 0)
    return header + question + body


def poll(records, server, ctx, interval):
    def get(path):
        with urllib.request.urlopen(server + path, context=ctx,
                                    timeout=10) as r:
            return json.load(r)["items"]
    while True:
        try:
            records.rebuild(get("/api/v1/services"),
                            get("/api/v1/endpoints"))
        except Exception as e:  # the API server restarts in some tests
            print("cluster-dns: listing failed: %s" % e, file=sys.stderr,
                  flush=True)
        time.sleep(interval)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--domain", default="cluster.local")
    ap.add_argument("--poll", type=float, default=1.0)
    a = ap.parse_args()

    with open(a.kubeconfig) as f:
        kc = json.load(f)  # the test bed writes its kubeconfigs as JSON
    cluster = kc["clusters"][0]["cluster"]
    user = kc["users"][0]["user"]
    ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])
    ctx.load_cert_chain(user["client-certificate"], user["client-key"])
    records = Records(a.domain.lower().rstrip("."))
    threading.Thread(target=poll, args=(records, cluster["server"], ctx,
                                        a.poll), daemon=True).start()

    class UDP(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            sock.sendto(answer(records, data), self.client_address)

    class TCP(socketserver.StreamRequestHandler):
        def handle(self):
            n = self.rfile.read(2)
            if len(n) == 2:
                data = self.rfile.read(struct.unpack("!H", n)[0])
                out = answer(records, data)
                self.wfile.write(struct.pack("!H", len(out)) + out)

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    udp = socketserver.ThreadingUDPServer((a.listen, a.port), UDP)
    tcp = socketserver.ThreadingTCPServer((a.listen, a.port), TCP)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    print("cluster-dns: serving %s on %s:%d" % (a.domain, a.listen, a.port),
          file=sys.stderr, flush=True)
    udp.serve_forever()


if __name__ == "__main__":
    main()
