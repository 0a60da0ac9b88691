#!/usr/bin/env bash
# Installs everything Berth needs on Debian bookworm (as root): the OCI runtimes, conmon, the static
# busybox the base image is made from, tini (the static init bound into `run --init` containers), the
# toolchain for the native addon and helpers (with zlib and libcrypto), zstd, bzip2 and xz (ADD of such archives), netavark + aardvark-dns + iptables + iproute2 (networks), and
# for the tests a local Distribution registry (docker-registry) with htpasswd (apache2-utils) and
# openssl (a test CA); then npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(crun runc conmon busybox-static tini make g++ python3 zlib1g-dev libssl-dev bzip2 xz-utils util-linux zstd netavark aardvark-dns iptables iproute2 docker-registry apache2-utils openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Not `npm ci`: node-unix-socket lists prebuilt packages for other platforms that the registry
# does not serve, which npm ci's lock check counts as missing. npm install follows the lockfile.
npm install --no-audit --no-fund --loglevel=error
npm run build --silent
