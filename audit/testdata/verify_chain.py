#!/usr/bin/env python3
"""An independent check of a Strongroom audit export, written from SECURITY.md alone.

Reads JSONL on stdin. Prints "OK <entries> <head hash>" or "FAIL <seq> <kind>" and exits 0 or 1.
Checks the chain only (full and redacted lines); signed checkpoints need Ed25519, which the
Python standard library lacks.
"""
import hashlib
import json
import sys

FULL_KEYS = ["seq", "time", "actor", "action", "target", "outcome", "reason", "client", "request_id", "prev", "hash"]
NESTED = {"actor": ["id", "name", "role"], "target": ["kind", "id", "name"], "client": ["ip", "user_agent"]}
REDACTED_KEYS = ["seq", "digest", "prev", "hash"]
SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def enc_string(s):
    out = ['"']
    for ch in s:
        if ch in SHORT:
            out.append(SHORT[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(e):
    parts = ['{"seq":%d' % e["seq"], ',"time":' + enc_string(e["time"])]
    for key in ["actor", "action", "target", "outcome", "reason", "client", "request_id", "prev"]:
        if key in NESTED:
            inner = ",".join('"%s":%s' % (k, enc_string(e[key][k])) for k in NESTED[key])
            parts.append(',"%s":{%s}' % (key, inner))
        else:
            parts.append(',"%s":%s' % (key, enc_string(e[key])))
    return ("".join(parts) + "}").encode("utf-8")


def chain_hash(prev, digest):
    return hashlib.sha256(bytes.fromhex(prev) + digest).hexdigest()


def main():
    want_seq, want_prev, count = 1, "0" * 64, 0
    for raw in sys.stdin.buffer.read().split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        if line.startswith(b'{"checkpoint":') or line.startswith(b'{"anchor":'):
            continue  # signed checkpoints need Ed25519; this check covers the chain
        try:
            pairs = json.loads(line, object_pairs_hook=lambda p: p)
            e = dict(pairs)
            keys = [k for k, _ in pairs]
            redacted = keys == REDACTED_KEYS
            if not redacted:
                if keys != FULL_KEYS:
                    raise ValueError("keys")
                for k, inner in NESTED.items():
                    if [x for x, _ in e[k]] != inner:
                        raise ValueError("nested keys")
                    e[k] = dict(e[k])
            seq = e["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise ValueError("seq")
        except (ValueError, KeyError, TypeError):
            print("FAIL %d unreadable" % want_seq)
            return 1
        if seq > want_seq:
            print("FAIL %d missing" % want_seq)
            return 1
        if seq < want_seq:
            print("FAIL %d out-of-order" % want_seq)
            return 1
        try:
            if redacted:
                digest = bytes.fromhex(e["digest"])
                if len(digest) != 32:
                    raise ValueError
                text = '{"seq":%d,"digest":"%s","prev":"%s","hash":"%s"}' % (seq, e["digest"], e["prev"], e["hash"])
                text = text.encode()
            else:
                c = canonical(e)
                digest = hashlib.sha256(c).digest()
                text = c[:-1] + b',"hash":' + enc_string(e["hash"]).encode() + b"}"
            computed = chain_hash(e["prev"], digest)
        except ValueError:
            print("FAIL %d altered" % seq)
            return 1
        if computed != e["hash"]:
            print("FAIL %d altered" % seq)
            return 1
        if e["prev"] != want_prev:
            print("FAIL %d broken-link" % seq)
            return 1
        if text != line:
            print("FAIL %d not-canonical" % seq)
            return 1
        want_seq, want_prev, count = seq + 1, e["hash"], count + 1
    if count == 0:
        print("FAIL 1 empty")
        return 1
    print("OK %d %s" % (count, want_prev))
    return 0


if __name__ == "__main__":
    sys.exit(main())
