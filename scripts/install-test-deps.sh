#!/usr/bin/env bash
# Installs everything the tests and benchmarks talk to, from Debian's packages
# and the npm registry, and starts the database servers the storage tests use.
# One list: each entry names a Debian package and how to tell it is present
# (a binary on PATH, or the package itself when it ships no binary of its own).
# Idempotent: when everything is present apt is not touched, so repeat runs
# take a second.
set -euo pipefail

cd "$(dirname "$0")/.."

# package:binary   (binary empty = ask dpkg whether the package is installed)
DEPS=(
  sip-tester:sipp            # SIPp, scenarios and load
  baresip:baresip            # a real softphone, headless
  sipvicious:svmap           # the attackers' scanner (svmap/svwar/svcrack)
  sipsak:sipsak
  tshark:tshark              # decodes what we send
  espeak-ng:espeak-ng        # prompt generation
  sox:sox
  libsox-fmt-all:
  kamailio:kamailio          # the reference server in benches and interop, the cluster's dispatcher
  nats-server:nats-server    # a private NATS with JetStream for the cluster tests that take the broker away
  iaxmodem:iaxmodem          # an independent IAX2 peer (libiax2) with a modem pty
  fail2ban:fail2ban-client   # its stock asterisk filter reads our security log
  iproute2:ip                # network namespaces
  nftables:nft               # ban mirroring into an nftables set
  postgresql:pg_ctlcluster   # storage and DBLookup tests
  mariadb-server:mariadbd
  mariadb-client:mariadb-admin
  dnsmasq-base:dnsmasq       # a real DNS server on loopback: NAPTR/SRV/A for RFC 3263 trunk hosts
  prosody:prosody            # the XMPP server Palisade's users chat on (messaging tests)
  prosody-modules:           # mod_auth_dovecot: Prosody asks Palisade to check chat passwords
  openssl:openssl            # throwaway certificates for Prosody's TLS in tests
  gdb:gdb                    # the stack of a baresip that spins without answering, in the test's error (test/helpers/baresip.ts)
  chromium:chromium          # the web console's browser tests (playwright-core drives it; never a downloaded browser)
)

missing=()
for entry in "${DEPS[@]}"; do
  pkg=${entry%%:*}
  bin=${entry#*:}
  if [[ -n $bin ]]; then
    command -v "$bin" >/dev/null 2>&1 || [[ -x /usr/sbin/$bin ]] || missing+=("$pkg")
  else
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  fi
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
  # Re-check: the run we waited for may have installed some of them.
  still=()
  for pkg in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || still+=("$pkg")
  done
  if (( ${#still[@]} > 0 )); then
    echo "install-test-deps: installing ${still[*]}"
    apt-get update
    # policy-rc.d keeps packages from starting their services mid-install
    # (kamailio would take port 5060); the databases are started below.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${still[@]}"
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

# The Debian kamailio package may start a system service listening on 5060;
# the tests and the bench run their own instances on other ports and want
# 5060 free.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl stop kamailio || true
fi

# Database servers: started the same way this kind of machine starts them,
# when they are not running already. Tests connect as root/postgres over the
# socket and 127.0.0.1 (PostgreSQL: trust on loopback; MariaDB: root with an
# empty password) to a database named "test".
if [[ $(id -u) -eq 0 ]]; then
  bash scripts/start-databases.sh
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

# The English prompt set ships in prompts/en/; regenerate into var/ only when
# espeak-ng is here (idempotent: only missing or changed prompts are made).
if [[ -f dist/src/media/prompts/generate-prompts.js ]] || npm run build >/dev/null; then
  node scripts/make-prompts.mjs
fi

echo "install-test-deps: ok"
