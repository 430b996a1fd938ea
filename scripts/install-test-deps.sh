#!/usr/bin/env bash
# Installs the real peers the interop tests and benchmarks talk to (SIPp,
# baresip, sipvicious, sipsak, tshark, espeak-ng, sox, Kamailio, fail2ban, nftables,
# iproute2) and the project's npm dependencies. Idempotent: when every tool
# is already on PATH it skips apt entirely, so repeat runs take a second.
set -euo pipefail

cd "$(dirname "$0")/.."

# binary -> Debian package that provides it
declare -A PKG_OF=(
  [sipp]=sip-tester
  [baresip]=baresip
  [svmap]=sipvicious
  [sipsak]=sipsak
  [tshark]=tshark
  [espeak-ng]=espeak-ng
  [sox]=sox
  [kamailio]=kamailio
  [fail2ban-client]=fail2ban
  [ip]=iproute2
  [nft]=nftables
)
# libsox-fmt-all has no binary of its own: check its files through dpkg.
EXTRA_PKGS=(libsox-fmt-all)

missing=()
for bin in "${!PKG_OF[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("${PKG_OF[$bin]}")
done
for pkg in "${EXTRA_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

wait_for_apt() {
  # Another apt/dpkg run (e.g. one started at machine boot) holds the lock;
  # competing with it would fail, so wait for it, bounded to 15 minutes.
  local waited=0
  while pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null ||
        { command -v fuser >/dev/null && fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; }; do
    if (( waited >= 900 )); then
      echo "install-test-deps: apt/dpkg still busy after 15 min" >&2
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  wait_for_apt
  # Re-check: the run we waited for may have installed everything.
  still=()
  for pkg in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || still+=("$pkg")
  done
  if (( ${#still[@]} > 0 )); then
    echo "install-test-deps: installing ${still[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      sip-tester baresip sipvicious sipsak tshark espeak-ng sox libsox-fmt-all kamailio fail2ban iproute2
  fi
fi

# The Debian kamailio package starts a system service listening on 5060;
# the tests and the bench run their own instances on other ports and do not
# need it, and Palisade's tests want 5060 free.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl stop kamailio || true
fi

if [[ -f package-lock.json ]]; then
  # npm ci wipes node_modules; skip it when the installed tree already
  # matches the lockfile (npm writes node_modules/.package-lock.json).
  if [[ ! -f node_modules/.package-lock.json ]] ||
     [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
  fi
else
  npm install --no-audit --no-fund
fi

# The English prompt set (espeak-ng + sox) for channels the dialplan
# answers; idempotent, only missing or changed prompts are made.
if [[ -f dist/src/media/prompts/generate-prompts.js ]] || npm run build >/dev/null; then
  node scripts/make-prompts.mjs
fi

echo "install-test-deps: ok"
