#!/usr/bin/env python3
"""An independent check of a Strongroom audit export, written from SECURITY.md alone.

Usage: verify_chain.py [--vault-id ID] < export.jsonl
       verify_chain.py --repair < lines of hex


Prints "OK <entries> <head hash>" or "FAIL <seq> <kind>" (the kind as SECURITY.md names it) and
exits 0 or 1. It runs the verification without the vault's key: every step of "Verifying a log"
but the signatures (the Python standard library has no Ed25519). So a closing line is read and
checked for its form, origin, size and head, and an anchor line fails (it needs the key).

--repair reads byte strings, one hex line each, and prints each as an entry stores it (SECURITY.md,
Canonical entry encoding: invalid UTF-8 replaced by U+FFFD), in hex.
"""
import base64
import hashlib
import json
import re
import sys

FULL_KEYS = ["seq", "time", "actor", "action", "target", "outcome", "reason", "client", "request_id", "prev", "hash"]
NESTED = {"actor": ["id", "name", "role"], "target": ["kind", "id", "name"], "client": ["ip", "user_agent"]}
REDACTED_KEYS = ["seq", "digest", "prev", "hash"]
OUTCOMES = ("ok", "denied", "error")
SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
ENTRY_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.[0-9]{9}Z\Z")
NOTE_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z\Z")
ORIGIN = re.compile(r"strongroom/([0-9a-f]{32})\Z")
B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
DECIMAL = re.compile(r"(0|[1-9][0-9]*)\Z")
SIG_PREFIX = "\u2014 "
# Unicode White_Space, which a signature's key name may not contain.
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}
SURROGATE = re.compile("[\ud800-\udfff]")


class Fail(Exception):
    def __init__(self, seq, kind):
        super().__init__(kind)
        self.seq, self.kind = seq, kind


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


def real_time(m):
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h <= 23 and mi <= 59 and s <= 59


def line_ok(line):
    """Every line: valid UTF-8, no 0x0D, not only spaces and tabs."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text or text.strip(" \t") == "":
        return None
    return text


def no_negative(t):
    if t.startswith("-"):
        raise ValueError("negative")
    return int(t)


class Obj(list):
    """A JSON object as its (key, value) pairs, in order, repeats kept."""


def load(text):
    """JSON with objects as Obj; a lone surrogate escape reads as U+FFFD."""

    def fix(v):
        if isinstance(v, str):
            return SURROGATE.sub("\ufffd", v)
        if isinstance(v, Obj):
            return Obj((fix(k), fix(x)) for k, x in v)
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return fix(json.loads(text, object_pairs_hook=Obj, parse_int=no_negative))


def is_seq(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64


def read_entry(text):
    """Step 2: a full entry or a redacted line of exactly its shape, else ValueError."""
    pairs = load(text)
    if not isinstance(pairs, Obj):
        raise ValueError("not an object")
    keys = [k for k, _ in pairs]
    e = dict(pairs)
    if keys == REDACTED_KEYS:
        if not is_seq(e["seq"]) or not all(isinstance(e[k], str) and HEX64.match(e[k]) for k in ("digest", "prev", "hash")):
            raise ValueError("redacted values")
        return e, True
    if keys != FULL_KEYS or not is_seq(e["seq"]):
        raise ValueError("keys")
    for k, inner in NESTED.items():
        if not isinstance(e[k], Obj) or [x for x, _ in e[k]] != inner:
            raise ValueError("nested keys")
        e[k] = dict(e[k])
        if not all(isinstance(v, str) for v in e[k].values()):
            raise ValueError("nested values")
    for k in ("time", "action", "outcome", "reason", "request_id", "prev", "hash"):
        if not isinstance(e[k], str):
            raise ValueError("string")
    m = ENTRY_TIME.match(e["time"])
    if not m or not real_time(m) or e["outcome"] not in OUTCOMES or not HEX64.match(e["prev"]) or not HEX64.match(e["hash"]):
        raise ValueError("values")
    return e, False


def canonical(e):
    parts = ['{"seq":%d' % e["seq"], ',"time":' + enc_string(e["time"])]
    for key in ["actor", "action", "target", "outcome", "reason", "client", "request_id", "prev"]:
        if key in NESTED:
            inner = ",".join('"%s":%s' % (k, enc_string(e[key][k])) for k in NESTED[key])
            parts.append(',"%s":{%s}' % (key, inner))
        else:
            parts.append(',"%s":%s' % (key, enc_string(e[key])))
    return ("".join(parts) + "}").encode("utf-8")


def read_note_line(line, prefix):
    """A closing or anchor line: prefix, one JSON string in the canonical escaping, "}"."""
    text = line_ok(line)
    if text is None or not text.endswith("}"):
        return None
    body = text[len(prefix) : -1]
    try:
        s = load(body) if body.startswith('"') else None
    except ValueError:
        return None
    if not isinstance(s, str) or enc_string(s) != body:
        return None
    return s


def note_text(note):
    """The text of a signed note of the right form (no signature can be checked), or None."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        return None
    split = note.rfind("\n\n")
    if split < 0:
        return None
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs.endswith("\n"):
        return None
    lines = sigs[:-1].split("\n")
    if len(lines) > 100:
        return None
    for sig in lines:
        if not sig.startswith(SIG_PREFIX):
            return None
        name, _, b64 = sig[len(SIG_PREFIX) :].partition(" ")
        if name == "" or "+" in name or any(c in WHITE_SPACE for c in name) or b64 == "" or not B64.match(b64):
            return None
        if len(base64.b64decode(b64)) < 5:
            return None
    return text


def verifier_key(k):
    """A note verifier key: name+<key hash, 8 hex>+base64(0x01 || 32-byte key), hash matching."""
    name, _, rest = k.partition("+")
    h, _, b64 = rest.partition("+")
    if name == "" or any(c in WHITE_SPACE for c in name) or not re.fullmatch(r"[0-9a-fA-F]{8}", h) or not B64.match(b64):
        return False
    raw = base64.b64decode(b64)
    return len(raw) == 33 and raw[0] == 1 and hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] == bytes.fromhex(h)


def read_transition(note):
    """A key transition's form: (seq, head hex), or None."""
    text = note_text(note)
    parts = text.split("\n") if text is not None else []
    if len(parts) != 7 or parts[6] != "" or not ORIGIN.match(parts[0]) or not parts[1].startswith("key transition "):
        return None
    seq, head = parts[1][len("key transition ") :], parts[2]
    if not DECIMAL.match(seq) or not 0 < int(seq) < 2**64 or not B64.match(head):
        return None
    raw = base64.b64decode(head)
    old, new = parts[3][len("old ") :], parts[4][len("new ") :]
    if len(raw) != 32 or base64.b64encode(raw).decode() != head or not parts[3].startswith("old ") or not parts[4].startswith("new "):
        return None
    if not verifier_key(old) or not verifier_key(new) or old == new:
        return None
    m = NOTE_TIME.match(parts[5][len("time ") :]) if parts[5].startswith("time ") else None
    if not m or not real_time(m):
        return None
    return int(seq), raw.hex()


def read_checkpoint(note):
    """The note's form and its checkpoint text; None if malformed."""
    text = note_text(note)
    if text is None:
        return None
    parts = text.split("\n")
    if len(parts) != 5 or parts[4] != "":
        return None
    origin, size, head, when = parts[:4]
    if not ORIGIN.match(origin) or not DECIMAL.match(size) or int(size) >= 2**64 or not B64.match(head):
        return None
    raw = base64.b64decode(head)
    if len(raw) != 32 or base64.b64encode(raw).decode() != head:
        return None
    m = NOTE_TIME.match(when[len("time ") :]) if when.startswith("time ") else None
    if not m or not real_time(m):
        return None
    return origin, int(size), raw.hex()


def verify(data, vault_id):
    want_seq, want_prev, count, lines, closed = 1, "0" * 64, 0, 0, False
    transitions = {}  # seq -> head: each is checked like a kept checkpoint
    for line in data.split(b"\n"):
        if line == b"":
            continue
        lines += 1
        if closed:
            raise Fail(want_seq, "after the closing checkpoint")
        if line.startswith(b'{"transition":'):
            note = read_note_line(line, '{"transition":')
            t = read_transition(note) if note is not None and lines == len(transitions) + 1 else None
            if t is None or (transitions and t[0] <= max(transitions)):
                raise Fail(0, "key transition")
            transitions[t[0]] = t[1]
            continue
        if line.startswith(b'{"checkpoint":'):
            note = read_note_line(line, '{"checkpoint":')
            if note is None:
                raise Fail(0, "unreadable")
            cp = read_checkpoint(note)
            if cp is None:
                raise Fail(0, "malformed")
            origin, size, head = cp
            if vault_id is not None and origin != "strongroom/" + vault_id:
                raise Fail(0, "for another vault")
            last = want_seq - 1
            if size > last:
                raise Fail(last + 1, "truncated below a checkpoint")
            if size < last:
                raise Fail(size + 1, "after the closing checkpoint")
            if head != want_prev:
                raise Fail(last, "forked")
            closed = True
            continue
        if line.startswith(b'{"anchor":'):
            raise Fail(0, "anchor")  # not first, unreadable, or (always, here) no key to open it
        text = line_ok(line)
        try:
            if text is None:
                raise ValueError("line")
            e, redacted = read_entry(text)
        except ValueError:
            raise Fail(want_seq, "unreadable")
        seq = e["seq"]
        if seq > want_seq:
            raise Fail(want_seq, "missing")
        if seq < want_seq:
            raise Fail(want_seq, "out of order")
        if redacted:
            digest = bytes.fromhex(e["digest"])
            again = '{"seq":%d,"digest":"%s","prev":"%s","hash":"%s"}' % (seq, e["digest"], e["prev"], e["hash"])
            again = again.encode()
        else:
            c = canonical(e)
            digest = hashlib.sha256(c).digest()
            again = c[:-1] + b',"hash":' + enc_string(e["hash"]).encode() + b"}"
        if hashlib.sha256(bytes.fromhex(e["prev"]) + digest).hexdigest() != e["hash"]:
            raise Fail(seq, "altered")
        if e["prev"] != want_prev:
            raise Fail(seq, "broken link")
        if again != line:
            raise Fail(seq, "not canonical")
        if seq in transitions and transitions[seq] != e["hash"]:
            raise Fail(seq, "forked")
        want_seq, want_prev, count = seq + 1, e["hash"], count + 1
    if count == 0:
        raise Fail(want_seq, "empty")
    if transitions and max(transitions) >= want_seq:
        raise Fail(want_seq, "truncated below a checkpoint")
    return count, want_prev


def repair(b):
    """Each maximal run of bytes that are not part of a valid UTF-8 sequence becomes one U+FFFD."""
    out, i, bad = [], 0, False
    while i < len(b):
        for n in range(1, 5):
            try:
                ch = b[i : i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(ch)
            i, bad = i + n, False
            break
        else:
            if not bad:
                out.append("\ufffd")
            i, bad = i + 1, True
    return "".join(out)


def main(argv):
    if argv == ["--repair"]:
        for line in sys.stdin.read().split("\n"):
            if line:
                print(repair(bytes.fromhex(line)).encode("utf-8").hex())
        return 0
    vault_id = None
    if len(argv) == 2 and argv[0] == "--vault-id":
        vault_id = argv[1]
    elif argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        count, head = verify(sys.stdin.buffer.read(), vault_id)
    except Fail as f:
        print("FAIL %d %s" % (f.seq, f.kind))
        return 1
    print("OK %d %s" % (count, head))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
