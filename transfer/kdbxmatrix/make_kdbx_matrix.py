#!/usr/bin/python3
"""Make the KeePass import matrix with the real tools.

Usage: make_kdbx_matrix.py OUTDIR KEEPASSXC_CLI (the Go package kdbxmatrix runs it)

Writes one database per case into OUTDIR, each with its own key file
where the case has one, and prints a JSON manifest on stdout: for every
case the file, how it opens (password, key file) and every entry as
pykeepass wrote it, so the test compares what Strongroom imports with
what the tool wrote, never with a copy of it.

KDBX 4 files start from pykeepass's own new database; KDBX 3.1 files
start from what keepassxc-cli import writes (KeePassXC 2.7.4 writes 3.1
for a database with no KDBX 4 features). keepassxc-cli cannot choose a
key derivation function or a cipher, so the script sets them in the
outer header before pykeepass saves: the cipher UUID and an IV of that
cipher's size, and the KDF parameters (cheap ones: the test is about
formats, not cost). pykeepass then encrypts with them; the test has
keepassxc-cli open every file, which proves each is a real database.
"""

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
from collections import OrderedDict
from datetime import datetime, timezone

from construct import Container
import argon2
import pykeepass
from pykeepass import PyKeePass
from pykeepass.kdbx_parsing.kdbx4 import kdf_uuids

OUT, KXC = sys.argv[1], sys.argv[2]


def vd_item(typ, key, value):
    return Container(type=typ, key=key, value=value, next_byte=0)


def kdf_params(kdf):
    """A KDBX 4 variant dictionary for kdf, at a test's cost."""
    items = [vd_item(0x42, '$UUID', kdf_uuids[kdf])]
    if kdf == 'aeskdf':
        items += [vd_item(0x05, 'R', 1000), vd_item(0x42, 'S', os.urandom(32))]
    else:  # argon2 (Argon2d) or argon2id: 1 MiB, 2 passes, 1 lane
        items += [vd_item(0x42, 'S', os.urandom(32)), vd_item(0x04, 'P', 1),
                  vd_item(0x05, 'M', 1 << 20), vd_item(0x05, 'I', 2), vd_item(0x04, 'V', 0x13)]
    # construct's RepeatUntil stops building at the first item whose
    # next_byte is 0, as it stops parsing there: only the last has it.
    for i in items[:-1]:
        i.next_byte = items[-1].type
    return Container(OrderedDict((i.key, i) for i in items))


def set_header(kp, kdf, cipher):
    """Sets the file's cipher and key derivation; pykeepass rebuilds the
    header from these values when the raw copy is dropped."""
    dh = kp.kdbx.header.value.dynamic_header
    dh.cipher_id.data = cipher
    dh.encryption_iv.data = os.urandom(12 if cipher == 'chacha20' else 16)
    dh.master_seed.data = os.urandom(32)
    if kp.version[0] == 4:
        dh.kdf_parameters.data.dict = kdf_params(kdf)
    else:  # 3.1: AES-KDF in the header's own fields
        dh.transform_seed.data = os.urandom(32)
        dh.transform_rounds.data = 1000
    del kp.kdbx.header['data']


def key_file(name, form):
    """Writes a key file in one of KeePass's forms; returns its path."""
    path = os.path.join(OUT, name)
    k = os.urandom(32)
    if form == 'xml1':
        b = ('<?xml version="1.0" encoding="utf-8"?>\n<KeyFile><Meta><Version>1.00</Version></Meta>'
             '<Key><Data>%s</Data></Key></KeyFile>\n' % base64.b64encode(k).decode()).encode()
    elif form in ('xml2', 'xml2bom'):
        data = ' '.join(k.hex().upper()[i:i + 8] for i in range(0, 64, 8))
        check = hashlib.sha256(k).hexdigest()[:8].upper()
        b = ('<?xml version="1.0" encoding="UTF-8"?>\n<KeyFile>\n\t<Meta>\n\t\t<Version>2.0</Version>\n\t</Meta>\n'
             '\t<Key>\n\t\t<Data Hash="%s">%s</Data>\n\t</Key>\n</KeyFile>\n' % (check, data)).encode()
        if form == 'xml2bom':
            b = b'\xef\xbb\xbf' + b
    elif form == 'bin32':
        b = k
    elif form == 'hex64':
        b = k.hex().encode()
    elif form == 'any':  # any other file: its SHA-256 is the key
        b = b'The parish council office photo, standing in for a key file.\n' + os.urandom(200)
    else:
        raise ValueError(form)
    with open(path, 'wb') as f:
        f.write(b)
    return path


def fill(kp, p):
    """Adds the entries every case holds (titles prefixed by the case's
    name, so one vault takes them all) and returns them as written."""
    pw = lambda: 'pw-' + secrets.token_urlsafe(12)
    social = kp.add_group(kp.root_group, 'Social')
    video = kp.add_group(social, 'Video')
    written = []
    e = kp.add_entry(kp.root_group, p + ' Website host', 'clerk@parish.example', 'old-' + pw(),
                     url='https://host.example/login', notes='Renewal due in May.\nSecond line & <more>.',
                     tags=['hosting', 'website'])
    e.set_custom_property('Support PIN', '4471')
    e.mtime = datetime(2022, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    e.save_history()
    e.password = pw()
    e.add_attachment(kp.add_binary(b'the hosting contract'), 'contract.pdf')
    written.append(dict(e=e, folder='', fields={'Support PIN': '4471'}, history=1, skip='attachment not imported'))
    e = kp.add_entry(social, p + ' Facebook page', 'parish.social', pw(),
                     otp='otpauth://totp/Facebook:parish.social?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=8&period=60&issuer=Facebook')
    written.append(dict(e=e, folder='Social'))
    e = kp.add_entry(video, p + ' Ünïcode ✓', 'свещеник', 'пароль-密码-' + pw(), url='https://video.example/ü')
    written.append(dict(e=e, folder='Social/Video'))
    # A second factor kept on its own: a TOTP and no password.
    e = kp.add_entry(kp.root_group, p + ' Council portal', 'clerk', '',
                     otp='otpauth://totp/Portal:clerk?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Portal')
    written.append(dict(e=e, folder=''))
    e = kp.add_entry(kp.root_group, p + ' Old printer', 'admin', '')
    written.append(dict(e=e, folder='', skip='no password'))
    e = kp.add_entry(kp.root_group, p + ' Old router', 'admin', pw())
    kp.trash_entry(e)
    written.append(dict(e=e, folder='Recycle Bin', skip='recycle bin'))
    return written


def describe(w):
    e = w['e']
    return dict(title=e.title, username=e.username or '', password=e.password or '', url=e.url or '',
                notes=e.notes or '', tags=list(e.tags or []), otp=e.otp or '', folder=w['folder'],
                fields=w.get('fields', {}), history=w.get('history', 0), skip=w.get('skip', ''))


def base(major, _cache={}):
    """A new empty database of version major, opened: KDBX 4 is
    pykeepass's own blank database, 3.1 what keepassxc-cli import writes
    for an empty XML. Each is opened once at its own (high) cost; later
    copies reuse the transformed key, and the case sets its own header
    and credentials before saving."""
    if major not in _cache:
        if major == 4:
            path = os.path.join(os.path.dirname(pykeepass.__file__), 'blank_database.kdbx')
            kp = PyKeePass(path, password='password')
        else:
            path, xml = os.path.join(OUT, 'kdbx31-base.kdbx'), os.path.join(OUT, 'empty.xml')
            with open(xml, 'w') as f:
                f.write('<?xml version="1.0" encoding="UTF-8"?><KeePassFile><Meta><Generator>test</Generator></Meta>'
                        '<Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Root</Name></Group></Root></KeePassFile>')
            subprocess.run([KXC, 'import', '-q', '-p', xml, path], input='base-pass\nbase-pass\n', text=True,
                           check=True, capture_output=True)
            kp = PyKeePass(path, password='base-pass')
        _cache[major] = (path, kp.password, kp.transformed_key)
    path, password, tk = _cache[major]
    return PyKeePass(path, password=password, transformed_key=tk)


# KeePass 2's empty password (and keepassxc-cli's, given an empty line):
# SHA-256("") is hashed into the composite key, which pykeepass's
# password='' leaves out; such files are saved with pykeepass's
# transformed_key, derived here from that composite key.
KP2_EMPTY = 'kp2-empty'


def kp2_empty_transformed(kp):
    composite = hashlib.sha256(hashlib.sha256(b'').digest()).digest()
    d = kp.kdbx.header.value.dynamic_header.kdf_parameters.data.dict
    typ = argon2.low_level.Type.ID if d['$UUID'].value == kdf_uuids['argon2id'] else argon2.low_level.Type.D
    return argon2.low_level.hash_secret_raw(secret=composite, salt=d['S'].value, hash_len=32, type=typ,
                                            time_cost=d['I'].value, memory_cost=d['M'].value // 1024,
                                            parallelism=d['P'].value, version=d['V'].value)


# name: (KDBX major version, KDF, cipher, key file form or None, password or None)
CASES = OrderedDict([
    ('k31-aes', (3, 'aeskdf', 'aes256', None, 'matrix-pass')),
    ('k31-chacha20', (3, 'aeskdf', 'chacha20', None, 'matrix-pass')),
    ('k31-twofish', (3, 'aeskdf', 'twofish', None, 'matrix-pass')),
    ('k4-aeskdf-aes', (4, 'aeskdf', 'aes256', None, 'matrix-pass')),
    ('k4-argon2d-aes', (4, 'argon2', 'aes256', None, 'matrix-pass')),
    ('k4-argon2id-aes', (4, 'argon2id', 'aes256', None, 'matrix-pass')),
    ('k4-argon2id-chacha20', (4, 'argon2id', 'chacha20', None, 'matrix-pass')),
    ('k4-argon2id-twofish', (4, 'argon2id', 'twofish', None, 'matrix-pass')),
    ('k4-argon2d-chacha20', (4, 'argon2', 'chacha20', None, 'matrix-pass')),
    ('k4-argon2d-twofish', (4, 'argon2', 'twofish', None, 'matrix-pass')),
    ('k4-aeskdf-twofish', (4, 'aeskdf', 'twofish', None, 'matrix-pass')),
    ('key-xml1', (4, 'argon2id', 'aes256', 'xml1', 'matrix-pass')),
    ('key-xml2', (4, 'argon2id', 'aes256', 'xml2', 'matrix-pass')),
    ('key-xml2-bom', (4, 'argon2id', 'chacha20', 'xml2bom', 'matrix-pass')),
    ('key-bin32', (4, 'aeskdf', 'aes256', 'bin32', 'matrix-pass')),
    ('key-hex64', (4, 'argon2id', 'aes256', 'hex64', 'matrix-pass')),
    ('key-any', (3, 'aeskdf', 'aes256', 'any', 'matrix-pass')),
    ('key-only', (4, 'argon2id', 'aes256', 'xml2', None)),
    ('key-only-argon2d', (4, 'argon2', 'aes256', 'bin32', None)),
    ('empty-password', (4, 'argon2id', 'chacha20', None, '')),
    ('empty-password-argon2d', (4, 'argon2', 'aes256', None, '')),
    ('empty-password-kp2', (4, 'argon2id', 'aes256', None, KP2_EMPTY)),
    ('empty-password-kp2-argon2d', (4, 'argon2', 'chacha20', None, KP2_EMPTY)),
])


def main():
    manifest = []
    for name, (major, kdf, cipher, form, password) in CASES.items():
        path = os.path.join(OUT, name + '.kdbx')
        keyfile = key_file(name + '.key', form) if form else None
        kp = base(major)
        kp.filename, kp.password, kp.keyfile = path, password, keyfile
        written = fill(kp, name)
        set_header(kp, kdf, cipher)
        tk = None
        if password == KP2_EMPTY:
            kp.password, tk = None, kp2_empty_transformed(kp)
        kp.save(transformed_key=tk)
        # Read back with pykeepass: what it wrote is what the file holds.
        back = PyKeePass(path, password=kp.password, keyfile=keyfile, transformed_key=tk)
        if major == 3:
            # 3.1 keeps the header's SHA-256 in Meta/HeaderHash, which
            # KeePassXC checks: set it for the header just written.
            back.tree.find('Meta/HeaderHash').text = base64.b64encode(hashlib.sha256(back.kdbx.header.data).digest()).decode()
            back.save()
            back = PyKeePass(path, password=password, keyfile=keyfile)
        if back.version[0] != major or back.encryption_algorithm != cipher or (major == 4 and back.kdf_algorithm != kdf):
            raise SystemExit('%s: saved as %s %s %s' % (name, back.version, back.encryption_algorithm, back.kdf_algorithm))
        hashed = password == KP2_EMPTY
        manifest.append(dict(name=name, file=path, key_file=keyfile or '', password='' if hashed else password,
                             empty_password_hashed=hashed,
                             version=major, kdf=kdf, cipher=cipher, entries=[describe(w) for w in written]))
    json.dump(manifest, sys.stdout, ensure_ascii=False, indent=1)


main()
