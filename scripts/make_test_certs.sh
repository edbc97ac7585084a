#!/usr/bin/env bash
# Makes the certificates the TLS tests use, in DIR (never committed: made at test time).
#   ca.pem / ca.key           a CA of its own, valid 2 days
#   server.pem / server.key   signed by it for IP 127.0.0.1 and DNS localhost, valid 1 day
#   expired.pem               the same key and names, expired yesterday
#   wrongname.pem             the same key, for DNS elsewhere.invalid only
# P-256 keys: quick to make, and what a modern server would use.
# Usage: make_test_certs.sh DIR
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=agentcheck-test-ca 2>/dev/null
openssl req -new "${ec[@]}" -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
sign() { # sign OUT DAYS SAN
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1" \
    -days "$2" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.ext"
}
sign server.pem 1 "IP:127.0.0.1,DNS:localhost"
sign expired.pem -1 "IP:127.0.0.1,DNS:localhost"
sign wrongname.pem 1 "DNS:elsewhere.invalid"
chmod 600 ./*.key
