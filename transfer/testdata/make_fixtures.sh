#!/usr/bin/env bash
# How the KeePass fixtures were made, with Debian's keepassxc 2.7.4.
# They are committed, so tests do not need keepassxc to read them; the
# live keepassxc-cli tests (kdbx_keepassxc_test.go and the end-to-end
# suite) make fresh files each run.
set -euo pipefail
cd "$(dirname "$0")"
pw() { printf 'fixture-pass\nfixture-pass\n'; }
# KDBX 3.1, AES-KDF: what keepassxc-cli writes for a plain database.
pw | keepassxc-cli import -q -p keepassxc_council.xml good_kdbx31_aes.kdbx
# KDBX 4.0, AES-KDF, password and an XML v2.0 key file: entry custom data
# makes KeePassXC write KDBX 4.
pw | keepassxc-cli import -q -p --set-key-file good_kdbx4_aes_keyfile.keyx \
  keepassxc_council_customdata.xml good_kdbx4_aes_keyfile.kdbx
# KDBX 4.0, Argon2id: keepassxc-cli cannot choose a KDF, so this starts
# from a Strongroom export (Argon2id, 1 MiB, 2 passes; password
# export-pass) that keepassxc-cli then changed and saved again, keeping
# its KDF: a Finance group and a Bank entry were added by KeePassXC.
#   printf 'export-pass\n' | keepassxc-cli mkdir good_kdbx4_argon2id.kdbx Finance
#   printf 'export-pass\nbank-ledger-copper\n' | keepassxc-cli add -u treasurer -p \
#     --url https://bank.example good_kdbx4_argon2id.kdbx Finance/Bank
# KDBX 4.0, Argon2d (KeePassXC's default for a new database): x/crypto has
# no Argon2d, so TestMakeArgon2dFixture writes it with Debian's argon2 tool
# doing the key derivation, then KeePassXC changes and saves it.
MAKE_FIXTURES=1 go test -run TestMakeArgon2dFixture .. && mv argon2d_seed.kdbx good_kdbx4_argon2d.kdbx
printf 'fixture-pass\n' | keepassxc-cli mkdir -q good_kdbx4_argon2d.kdbx Finance
printf 'fixture-pass\nbank-ledger-copper\n' | keepassxc-cli add -q -u treasurer -p --url https://bank.example \
  good_kdbx4_argon2d.kdbx Finance/Bank
