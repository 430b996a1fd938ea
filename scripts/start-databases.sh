#!/usr/bin/env bash
# Starts PostgreSQL and MariaDB for the storage tests when they are not
# running, and makes what the tests connect to: database "test" on both,
# PostgreSQL roles postgres and root with trust on loopback, MariaDB root
# with an empty password over 127.0.0.1. These are test-machine settings for
# loopback-only servers; never apply them to a production database.
# Idempotent; needs root.
set -euo pipefail

# --- PostgreSQL --------------------------------------------------------------
if command -v pg_lsclusters >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $ver ]]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    pg_createcluster "$ver" main >/dev/null
  fi
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    # trust on loopback, ahead of the package's peer/scram lines
    sed -i '1i local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || true
  fi
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$ver" '$1==v && $2=="main"' | grep -q online; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 && break
    sleep 1
  done
  psql -U postgres -h 127.0.0.1 -tAc "select 1 from pg_roles where rolname='root'" postgres | grep -q 1 ||
    psql -U postgres -h 127.0.0.1 -qc 'create role root superuser login' postgres
  psql -U postgres -h 127.0.0.1 -tAc "select 1 from pg_database where datname='test'" postgres | grep -q 1 ||
    psql -U postgres -h 127.0.0.1 -qc 'create database test' postgres
fi

# --- MariaDB -----------------------------------------------------------------
if [[ -x /usr/sbin/mariadbd ]]; then
  if ! mariadb-admin ping >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 30); do
      mariadb-admin ping >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  # root over TCP with no password (Debian's default is unix_socket only)
  if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
    mariadb -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
                CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
                GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  fi
  mariadb -e 'CREATE DATABASE IF NOT EXISTS test'
fi
