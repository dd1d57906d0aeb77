#!/usr/bin/env bash
# A throwaway certificate authority for the fleet tests' MQTT broker, the way AWS
# IoT Core authenticates devices: mutual TLS, every box and admin with a client
# certificate whose CN is its name (mosquitto's use_identity_as_username).
#
#   DIR/ca.pem                      the CA (EC P-256, its key in DIR/ca.key)
#   DIR/server.pem, server.key      the broker: CN=localhost,
#                                   subjectAltName=DNS:localhost,IP:127.0.0.1
#                                   (rustls checks the name; without the IP it
#                                   refuses 127.0.0.1)
#   DIR/NAME.pem, NAME.key          a client certificate per NAME given, CN=NAME
#
# Idempotent: files already there are kept (a CA made earlier signs the new
# names). Keys are 0600. Test use only: the CA key sits beside the certificates.
# Usage: tests/testbed/fleet-pki.sh DIR NAME...   e.g. DIR jerusalem-1 haifa-1 admin
set -euo pipefail

say() { printf 'fleet-pki: %s\n' "$*"; }
die() { printf 'fleet-pki: error: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 DIR [NAME...]"
dir=$1
shift
command -v openssl >/dev/null || die "no openssl (run tests/testbed/fleet-tools.sh)"
for name in "$@"; do
    case "$name" in
        ca | server) die "'$name' is the CA's or the broker's file name, not a client's" ;;
        '' | -* | */* | *[!A-Za-z0-9._-]*) die "bad client name '$name' (letters, digits, . _ -)" ;;
    esac
done
mkdir -p "$dir"
umask 077

days=3650
curve=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve)

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
    openssl req -x509 -new -nodes "${curve[@]}" -days "$days" -sha256 \
        -subj "/O=Shofar tests/CN=Shofar test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null || die "cannot make the CA in $dir"
    chmod 0644 "$dir/ca.pem"
    say "made a test CA in $dir"
fi

# issue NAME CN EXTENSIONS: a key and a certificate signed by the CA; the
# certificate is written last (atomically), so its presence means both are whole.
issue() {
    local name=$1 cn=$2 ext=$3
    [ -s "$dir/$name.pem" ] && [ -s "$dir/$name.key" ] && return 0
    local tmp
    tmp=$(mktemp -d "$dir/.issue.XXXXXX")
    printf '%s\n' "$ext" > "$tmp/ext"
    openssl req -new -nodes "${curve[@]}" -subj "/O=Shofar tests/CN=$cn" \
        -keyout "$tmp/key" -out "$tmp/csr" 2>/dev/null || { rm -rf "$tmp"; die "cannot make a key for $name"; }
    openssl x509 -req -in "$tmp/csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days "$days" -sha256 -extfile "$tmp/ext" -out "$tmp/pem" 2>/dev/null \
        || { rm -rf "$tmp"; die "cannot sign $name's certificate"; }
    chmod 0644 "$tmp/pem"
    mv "$tmp/key" "$dir/$name.key"
    mv "$tmp/pem" "$dir/$name.pem"
    rm -rf "$tmp"
}

issue server localhost "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"

for name in "$@"; do
    issue "$name" "$name" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done
