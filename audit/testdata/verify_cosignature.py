#!/usr/bin/env python3
"""An independent check of a witness cosignature, written from SECURITY.md ("Witnesses") alone.

Usage: verify_cosignature.py VECTOR_FILE. Reads the vector's header (verifier key, witness
verifier key) and body (the cosigned checkpoint note). Prints "OK <witness unix time>",
"FAIL bad signature" or "FAIL no cosignature" and exits 0 or 1. Needs the `cryptography` package.
"""
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def parse_vkey(vkey, alg):
    name, key_id, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if raw[0] != alg or hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise ValueError("bad verifier key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def main(path):
    head, body = open(path, "rb").read().decode().split("\n\n", 1)
    header = dict(l.split(": ", 1) for l in head.split("\n") if l and not l.startswith("#"))
    text, sigs = body.split("\n\n", 1)
    text += "\n"
    lines = {}
    for line in sigs.rstrip("\n").split("\n"):
        name, b64 = line[len("\u2014 "):].split(" ")
        raw = base64.b64decode(b64)
        lines.setdefault((name, raw[:4]), raw[4:])
    vname, vid, vpub = parse_vkey(header["verifier key"], 0x01)
    wname, wid, wpub = parse_vkey(header["witness verifier key"], 0x04)
    try:
        vpub.verify(lines[(vname, vid)], text.encode())
    except (KeyError, InvalidSignature):
        print("FAIL bad signature")
        return 1
    if (wname, wid) not in lines:
        print("FAIL no cosignature")
        return 1
    sig = lines[(wname, wid)]
    (ts,) = struct.unpack(">Q", sig[:8])
    msg = ("cosignature/v1\ntime %d\n" % ts + text).encode()
    try:
        wpub.verify(sig[8:], msg)
    except InvalidSignature:
        print("FAIL bad signature")
        return 1
    print("OK %d" % ts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
