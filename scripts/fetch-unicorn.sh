#!/usr/bin/env bash
# Unpacks Debian trixie's Unicorn 2.1.1 (libunicorn2t64, libunicorn-dev) into .deps/unicorn when the
# system's Unicorn is older than 2.1, whose x86 MMU ignores guest page tables. The system's apt
# sources are not touched: the two .debs are fetched from the Debian mirror by name, checked
# against their SHA-256, and unpacked with dpkg-deb. The unicorn.pc written there carries an rpath,
# so binaries built against it find the library without LD_LIBRARY_PATH.
# Prints the PKG_CONFIG_PATH to use (empty when the system's Unicorn will do).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/.deps/unicorn"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=2.1.1-2+b2
declare -A sha=(
  [libunicorn2t64]=3f760a28c65a93662edbcb21fceb2e0a1c0ab0e8277564fc572e6532949e3e3f
  [libunicorn-dev]=479613e244a6023c03708951a5f0e00fc96c83a4b74b4d74c9fe7d3a9050208b
)

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

sys=$(pkg-config --modversion unicorn 2>/dev/null || true)
if [ -n "$sys" ] && version_ge "$sys" 2.1; then
  echo "fetch-unicorn: system Unicorn $sys translates guest page tables; using it" >&2
  exit 0
fi
if [ -f "$prefix/lib/pkgconfig/unicorn.pc" ]; then
  echo "$prefix/lib/pkgconfig"
  exit 0
fi

echo "fetch-unicorn: system Unicorn is ${sys:-absent}; unpacking Debian's $version into $prefix" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pkg in libunicorn2t64 libunicorn-dev; do
  deb="${pkg}_${version}_amd64.deb"
  url="$mirror/pool/main/u/unicorn-engine/${deb//+/%2B}"
  if ! curl -fsSL --retry 3 -o "$work/$deb" "$url"; then
    echo "fetch-unicorn: cannot download $url" >&2
    exit 1
  fi
  echo "${sha[$pkg]}  $work/$deb" | sha256sum -c --quiet - || {
    echo "fetch-unicorn: $deb does not match its SHA-256" >&2
    exit 1
  }
  dpkg-deb -x "$work/$deb" "$work/root"
done

rm -rf "$prefix"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
cp -a "$work/root/usr/lib/x86_64-linux-gnu/." "$prefix/lib/"
rm -rf "$prefix/lib/pkgconfig"/* "$prefix/lib/libunicorn.a"
mkdir -p "$prefix/lib/pkgconfig"
cp -a "$work/root/usr/include/unicorn" "$prefix/include/"
cat >"$prefix/lib/pkgconfig/unicorn.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: unicorn
Description: Unicorn emulator engine (Debian trixie $version, project-local)
Version: 2.1.1
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lunicorn
Libs.private: -lpthread -lm
Cflags: -I\${includedir}
PC
echo "$prefix/lib/pkgconfig"
