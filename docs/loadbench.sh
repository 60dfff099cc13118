#!/usr/bin/env bash
# Load figures for docs/benchmarks.md with public tools: Debian's wrk
# (TOOL=wrk) or hey (go install github.com/rakyll/hey@v0.1.4, the default)
# against the real server on 127.0.0.1.
# Usage: docs/loadbench.sh [credentials]   (default 1000)
# Environment: TOOL=wrk|hey; CLIENTS="1 16 64"; EXTRA=0 skips the list and
# write runs; FILL_SECONDS=S first grows the audit log; PROFILE=FILE writes
# the server's CPU profile; SERVER_FLAGS adds server flags.
set -euo pipefail
N=${1:-1000}
cd "$(dirname "$0")/.."
make build >/dev/null
W=$(mktemp -d); trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; rm -rf "$W"' EXIT
S=bin/strongroom
export STRONGROOM_CONFIG=$W/cfg STRONGROOM_CA=$W/data/tls/cert.pem
$S server --data "$W/data" --listen 127.0.0.1:18543 ${SERVER_FLAGS:-} ${PROFILE:+--cpu-profile "$PROFILE"} >"$W/server.out" 2>"$W/server.log" & SRV=$!
sleep 2
export STRONGROOM_ADDR=https://127.0.0.1:18543
printf 'correct horse battery staple\n' >"$W/pass"
$S init --holder A --holder B --shares 2 --threshold 2 --admin Bench --passphrase-file "$W/pass" --out "$W/env" --json >"$W/init.json"
start=$(date +%s.%N); $S unseal --passphrase-file "$W/pass" >/dev/null; end=$(date +%s.%N)
echo "unseal (CLI round trip, Argon2id 64 MiB x3): $(echo "$end - $start" | bc) s"
secret=$(python3 -c 'import json,sys,urllib.parse as u;print(u.parse_qs(u.urlparse(json.load(open(sys.argv[1]))["admin"]["totp_uri"]).query)["secret"][0])' "$W/init.json")
otp=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["admin"]["password"])' "$W/init.json")
printf '%s\n' "$otp" >"$W/otp"; printf 'ultramarine kettle drum\n' >"$W/pw"
$S login --user Bench --password-file "$W/otp" --totp "$(oathtool --totp -b "$secret")" --new-password-file "$W/pw" >/dev/null
TOKEN=$(cat "$W/cfg/token")
# Credentials: through the API one by one (each a durably audited write),
# or for large N through imports of 10,000-row CSV files. Shared, not admin:
# an admin read needs a re-authentication within 5 minutes (issue 15), and
# the audited read is the same.
if [ "$N" -le 2000 ]; then
python3 - "$N" "$TOKEN" <<'PY'
import json, ssl, sys, urllib.request
n, token = int(sys.argv[1]), sys.argv[2]
ctx = ssl._create_unverified_context()
for i in range(n):
    body = json.dumps({"name": "Account %05d" % i, "kind": "shared", "password": "secret %d" % i, "assignees": ["Bench"]}).encode()
    r = urllib.request.Request("https://127.0.0.1:18543/v1/creds", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(r, context=ctx).read()
PY
else
  for start in $(seq 0 10000 $((N - 1))); do
    python3 -c 'import sys; s, n = int(sys.argv[1]), int(sys.argv[2]); print("title,password"); [print("Account %05d,secret %d" % (i, i)) for i in range(s, min(s + 10000, n))]' "$start" "$N" >"$W/chunk.csv"
    $S import --format csv "$W/chunk.csv" --kind shared --tag bench >/dev/null
  done
fi
echo "credentials: $N; database: $(stat -c %s "$W/data/strongroom.db") bytes"
echo "RSS idle: $(grep VmRSS /proc/$SRV/status)"
H=~/go/bin/hey
# TOOL=wrk uses Debian's wrk (lighter on the shared CPU) for the read runs.
TOOL=${TOOL:-hey}
ticks() { awk '{print $14 + $15}' "/proc/$SRV/stat"; }
reads() { # clients
  local t0; t0=$(ticks)
  if [ "$TOOL" = wrk ]; then
    /usr/bin/time -f "load tool CPU: %U s user, %S s system" wrk -t "$(( $1 < 2 ? 1 : 2 ))" -c "$1" -d 10s --latency -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:18543/v1/creds/Account%2000042" 2>&1 | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors|CPU"
  else
    $H -z 10s -c "$1" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:18543/v1/creds/Account%2000042" | grep -E "Requests/sec|50%|99%|\[200\]|\[[45]"
  fi
  echo "server CPU: $(( ($(ticks) - t0) / 100 )) s in 10 s"
}
# FILL_SECONDS=S first grows the audit log with S seconds of writes at 32 clients.
if [ -n "${FILL_SECONDS:-}" ]; then
  $H -z "${FILL_SECONDS}s" -c 32 -m POST -T application/json -H "Authorization: Bearer $TOKEN" \
    -d '{"name":"Account 00009","password":"filling the log"}' "https://127.0.0.1:18543/v1/creds" | grep -E "Requests/sec"
  echo "audit entries after filling: $($S audit verify | sed 's/.*OK: \([0-9]*\) entries.*/\1/'); database: $(stat -c %s "$W/data/strongroom.db") bytes"
fi
for c in ${CLIENTS:-1 16 64}; do
  echo "== audited reads, $c clients"
  reads "$c"
done
echo "RSS after load: $(grep VmRSS /proc/$SRV/status)"
[ "${EXTRA:-1}" = 1 ] || exit 0
echo "== list (one page: the first 1,000 credentials by name), 4 clients"
$H -z 10s -c 4 -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:18543/v1/creds" | grep -E "Requests/sec|50%|99%|\[200\]|\[[45]"
echo "== writes, 16 clients"
$H -z 10s -c 16 -m POST -T application/json -H "Authorization: Bearer $TOKEN" \
  -d '{"name":"Account 00007","password":"rotated under load"}' "https://127.0.0.1:18543/v1/creds" | grep -E "Requests/sec|50%|99%|\[200\]|\[[45]"
echo "audit entries: $($S audit export | wc -l); database: $(stat -c %s "$W/data/strongroom.db") bytes"
