#!/usr/bin/env bash
# Installs the Debian packages the tests run: nghttp/nghttpd (interop),
# curl (HTTP/1.1, TLS, early hints), chromium (a real browser over TLS),
# openssl (keys in PKCS#1 and SEC1 form, a TLS client that stays silent) and
# haproxy (the load balancer in front of replicas, tests/fleet.rs).
# Does nothing when they are all present; needs root and apt-get otherwise.
set -euo pipefail
need=()
command -v nghttp >/dev/null || need+=(nghttp2-client)
command -v nghttpd >/dev/null || need+=(nghttp2-server)
command -v curl >/dev/null || need+=(curl)
command -v chromium >/dev/null || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)
command -v haproxy >/dev/null || need+=(haproxy)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "the tests need these Debian packages: ${need[*]} (apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
