#!/usr/bin/env bash
# A local Apache Spark Thrift server (HiveServer2 protocol) for the `spark` tests, on 127.0.0.1 only.
#
#   bash .ci/spark_thrift.sh start   # install pyspark once (cached outside the clone), launch in the background
#   bash .ci/spark_thrift.sh wait    # block until the port answers (fails if the server died or took too long)
#   bash .ci/spark_thrift.sh stop    # stop the server this clone started, by the PID it recorded
#   bash .ci/spark_thrift.sh url     # the SQLAlchemy URL the tests read from DATATRUTH_TEST_SPARK_URL
#
# pyspark's PyPI package ships Spark's jars (the Thrift server among them) but no sbin scripts, so the server is
# started with spark-submit. It builds a ~457 MB wheel from the sdist: the virtualenv it lives in is kept under
# the user's cache (DATATRUTH_SPARK_CACHE) and reused by every later run and clone; pip's own wheel cache makes
# a rebuilt virtualenv cheap too. Run state (PID, log, warehouse, scratch) stays in this clone's .datatruth/.
# The catalog is in memory: tables a test creates vanish with the server.
set -euo pipefail
cd "$(dirname "$0")/.."

SPARK_VERSION="4.3.0"
PORT="${DATATRUTH_SPARK_PORT:-10099}"
CACHE="${DATATRUTH_SPARK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datatruth}"
VENV="$CACHE/pyspark-$SPARK_VERSION"
RUN_DIR="$(pwd)/.datatruth/spark-thrift"
PID_FILE="$RUN_DIR/thrift.pid"
LOG_FILE="$RUN_DIR/thrift.log"
WAIT_S="${DATATRUTH_SPARK_WAIT_S:-240}"

log() { echo "spark_thrift: $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running_pid() {  # the recorded PID when that process is still alive
    [ -f "$PID_FILE" ] || return 1
    local pid; pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ensure_java() {
    command -v java >/dev/null 2>&1 && return 0
    log "installing a Java runtime (openjdk-17-jre-headless)"
    export DEBIAN_FRONTEND=noninteractive
    # setup_services.sh may be installing packages at the same time: wait for the dpkg lock.
    local apt=(apt-get -o DPkg::Lock::Timeout=300 install -y -q openjdk-17-jre-headless)
    "${apt[@]}" >/dev/null 2>&1 || { apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null && "${apt[@]}" >/dev/null; }
}

ensure_pyspark() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$SPARK_VERSION')" 2>/dev/null; then
        return 0
    fi
    log "installing pyspark $SPARK_VERSION into $VENV (first run only; the wheel is built once and cached by pip)"
    mkdir -p "$CACHE"
    rm -rf "$VENV.partial"
    python3 -m venv "$VENV.partial"
    "$VENV.partial/bin/pip" install --quiet --disable-pip-version-check "pyspark==$SPARK_VERSION"
    rm -rf "$VENV"
    mv "$VENV.partial" "$VENV"
    # The venv's scripts name their own path; a moved venv keeps working for `python -c` and the jars.
}

spark_home() {
    "$VENV/bin/python" -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))"
}

start() {
    if pid="$(running_pid)"; then log "already running (PID $pid) on port $PORT"; return 0; fi
    if port_open; then log "port $PORT is taken by another process; set DATATRUTH_SPARK_PORT"; return 1; fi
    ensure_java
    ensure_pyspark
    local home; home="$(spark_home)"
    mkdir -p "$RUN_DIR/warehouse" "$RUN_DIR/local"
    # SPARK_LOCAL_IP keeps the driver on loopback; the UI is off, so the Thrift port is the only listener.
    # It runs in its own folder, where Spark leaves derby.log and other droppings.
    cd "$RUN_DIR"
    SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 nohup "$home/bin/spark-submit" \
        --master 'local[2]' \
        --driver-memory "${DATATRUTH_SPARK_MEMORY:-2g}" \
        --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
        --conf spark.sql.catalogImplementation=in-memory \
        --conf spark.ui.enabled=false \
        --conf spark.sql.shuffle.partitions=4 \
        --conf spark.sql.session.timeZone=UTC \
        --conf "spark.sql.warehouse.dir=$RUN_DIR/warehouse" \
        --conf "spark.local.dir=$RUN_DIR/local" \
        --conf spark.driver.bindAddress=127.0.0.1 \
        --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
        --hiveconf "hive.server2.thrift.port=$PORT" \
        spark-internal >"$LOG_FILE" 2>&1 < /dev/null &
    # spark-submit execs spark-class, which execs java: this PID is the server itself.
    echo $! > "$PID_FILE"
    log "starting (PID $(cat "$PID_FILE")), log in $LOG_FILE"
}

wait_ready() {
    local waited=0
    while ! port_open; do
        if ! running_pid >/dev/null; then
            log "the server is not running; last lines of $LOG_FILE:"
            tail -n 20 "$LOG_FILE" 2>/dev/null || true
            return 1
        fi
        if [ "$waited" -ge "$WAIT_S" ]; then log "port $PORT did not open in ${WAIT_S} s"; return 1; fi
        sleep 1; waited=$((waited + 1))
    done
    log "ready on 127.0.0.1:$PORT after ${waited} s of waiting"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then rm -f "$PID_FILE"; log "not running"; return 0; fi
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "PID $pid ignored TERM for 30 s; killing it"; kill -9 "$pid"; fi
    rm -f "$PID_FILE"
    log "stopped (PID $pid)"
}

case "${1:-}" in
    start) start ;;
    wait) wait_ready ;;
    stop) stop ;;
    status) if pid="$(running_pid)"; then log "running (PID $pid), port $PORT $(port_open && echo open || echo not yet open)"; else log "not running"; exit 1; fi ;;
    url) echo "hive://datatruth@127.0.0.1:$PORT/default" ;;
    *) echo "usage: bash .ci/spark_thrift.sh start|wait|stop|status|url" >&2; exit 2 ;;
esac
