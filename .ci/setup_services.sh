#!/usr/bin/env bash
# Configure the local PostgreSQL and MariaDB for the slow-query triage tests, and install the
# headless browser the end-to-end tests drive (Debian's chromium, no Playwright download).
#
# Idempotent and non-interactive; meant to run as root on a fresh CI machine (and again on a
# machine where it already ran, where it changes nothing and restarts nothing).
#   PostgreSQL: pg_stat_statements preloaded (needs a restart), hypopg installed.
#   MariaDB:    performance_schema on (needs a restart), so statement digests are collected.
#   Chromium:   /usr/bin/chromium and chromium-driver for tests/browser (Playwright uses this binary).
#   percona-toolkit: pt-query-digest, the peer the slow-log digest is checked against.
# Each restart happens only when the setting is not yet live.
set -euo pipefail

log() { echo "setup_services: $*"; }

PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)"
PSQL=(psql -h 127.0.0.1 -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1)

wait_for() {  # wait_for <what> <command...>: poll up to 60 s until the command succeeds
    local what="$1"; shift
    for _ in $(seq 1 120); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "$what did not come up in 60 s"; return 1
}

apt_install() {  # apt_install <package>: install a Debian package if it is missing
    if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
        return 0
    fi
    log "installing $1"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$1" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$1" >/dev/null; }
}

setup_postgres() {
    if [ -z "$PG_VERSION" ]; then log "no PostgreSQL cluster under /etc/postgresql; skipping"; return 0; fi
    apt_install "postgresql-${PG_VERSION}-hypopg"
    wait_for "PostgreSQL" "${PSQL[@]}" -c "SELECT 1" || \
        pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
    wait_for "PostgreSQL" "${PSQL[@]}" -c "SELECT 1"

    local libs
    libs="$("${PSQL[@]}" -c "SHOW shared_preload_libraries")"
    if [[ ",${libs// /}," != *",pg_stat_statements,"* ]]; then
        local wanted="pg_stat_statements"
        [ -n "${libs// /}" ] && wanted="${libs}, pg_stat_statements"
        log "preloading pg_stat_statements (was: '${libs}')"
        "${PSQL[@]}" -c "ALTER SYSTEM SET shared_preload_libraries = '${wanted}'"
        pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main restart
        wait_for "PostgreSQL" "${PSQL[@]}" -c "SELECT 1"
    fi
    # Extensions are per database; the tests use `test` (created here if a fresh machine lacks it).
    if [ "$("${PSQL[@]}" -c "SELECT count(*) FROM pg_database WHERE datname = 'test'")" = "0" ]; then
        "${PSQL[@]}" -c "CREATE DATABASE test"
    fi
    psql -h 127.0.0.1 -U postgres -d test -XAtq -v ON_ERROR_STOP=1 \
        -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
        -c "CREATE EXTENSION IF NOT EXISTS hypopg"
    log "PostgreSQL ${PG_VERSION}: pg_stat_statements and hypopg ready"
}

mysql_q() { mysql -uroot -h127.0.0.1 -N -B -e "$1"; }

setup_mariadb() {
    if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
        log "no MariaDB server installed; skipping"; return 0
    fi
    wait_for "MariaDB" mysql_q "SELECT 1" || \
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for "MariaDB" mysql_q "SELECT 1"

    local cnf=/etc/mysql/my.cnf
    if [ -f "$cnf" ] && ! grep -q "^performance_schema *= *ON" "$cnf"; then
        # A later [mysqld] section adds to the earlier one; my.cnf here has no includedir.
        printf '\n[mysqld]\n# datatruth slow-query triage: statement digests\nperformance_schema = ON\n' >> "$cnf"
        log "enabled performance_schema in $cnf"
    fi
    if [ "$(mysql_q "SELECT @@performance_schema")" != "1" ]; then
        log "restarting MariaDB to turn on performance_schema"
        local pid
        pid="$(cat /run/mysqld/mysqld.pid 2>/dev/null || true)"
        mysqladmin -uroot -h127.0.0.1 shutdown
        if [ -n "$pid" ]; then
            for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        fi
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        wait_for "MariaDB" mysql_q "SELECT 1"
    fi
    mysql_q "CREATE DATABASE IF NOT EXISTS test"
    log "MariaDB: performance_schema=$(mysql_q "SELECT @@performance_schema")"
}

setup_chromium() {
    # tests/browser launch this binary through Playwright; `playwright install` is never run.
    apt_install chromium
    apt_install chromium-driver
    if [ ! -x /usr/bin/chromium ]; then log "chromium did not install to /usr/bin/chromium"; return 1; fi
    log "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'installed')"
}

setup_percona_toolkit() {
    # tests/test_slowlog_vs_pt.py compares `slowlog analyze` with pt-query-digest in the same run.
    apt_install percona-toolkit
    log "pt-query-digest: $(command -v pt-query-digest || echo missing)"
}

setup_postgres
setup_mariadb
setup_chromium
setup_percona_toolkit
