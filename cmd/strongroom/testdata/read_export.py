"""Read a Strongroom KDBX export with pykeepass and print it as JSON.

Run by TestExportReadBack (export_e2e_test.go), which compares every field
with what the vault holds: python3 read_export.py FILE PASSPHRASE-FILE.
pykeepass is a second, independent KeePass implementation (Debian's
python3-pykeepass): nothing here uses Strongroom's code.
"""
import json
import sys

from pykeepass import PyKeePass


def when(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def fields(e):
    return {
        "title": e.title,
        "username": e.username or "",
        "password": e.password or "",
        "url": e.url or "",
        "notes": e.notes or "",
        "otp": e.otp or "",
        "custom": dict(e.custom_properties),
        "ctime": when(e.ctime),
        "mtime": when(e.mtime),
    }


def main():
    with open(sys.argv[2], encoding="utf-8") as f:
        password = f.read().rstrip("\n")
    kp = PyKeePass(sys.argv[1], password=password)
    out = {"recycle_bin": None, "entries": []}
    rb = kp.recyclebin_group
    if rb is not None:
        out["recycle_bin"] = {"name": rb.name, "entries": len(rb.entries), "path": "/".join(rb.path)}
    for e in kp.entries:
        if e.is_a_history_entry:
            continue
        d = fields(e)
        d["path"] = "/".join(p or "" for p in e.path)
        d["tags"] = e.tags or []
        d["history"] = [fields(h) for h in e.history]
        out["entries"].append(d)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


main()
