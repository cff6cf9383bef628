#!/usr/bin/env bash
# Native local stack for orderflow: Apache Kafka 3.9.1 (KRaft, single node) + MinIO
# + a private PostgreSQL cluster (Debian's postgresql package, 15 or newer).
#
# Why this exists: the project's machines (developers' and CI's) have no Docker
# engine, so testcontainers/docker-compose cannot start Kafka or an S3 server
# there. This script installs both from the package registries that are reachable
# (Kafka jars from Maven Central, MinIO source from the Go module proxy), caches
# them in a user-level cache shared by every clone (${XDG_CACHE_HOME:-~/.cache}/orderflow-stack,
# as Maven and Go keep theirs), and runs them as plain background processes with
# their state under .local-stack/. See adr/0007-native-local-stack.md.
#
# Usage: scripts/stack/stack.sh <command>
#   install                 download/build Kafka and MinIO into $CACHE_DIR (idempotent)
#   up                      install if needed, start both, wait until ready, write the env file
#   down [--purge]          stop both (TERM, then KILL); --purge also deletes $STACK_DIR
#   purge                   same as: down --purge
#   start-kafka|stop-kafka  start/stop only the broker (same data, keys and certs)
#   start-minio|stop-minio  start/stop only MinIO (same data)
#   start-postgres|stop-postgres  start/stop only PostgreSQL (same data and password)
#   status                  print what is running
#   env [--path]            print the env file (export lines), or only its path
#   cluster-id              print a new random Kafka cluster id (what a new STACK_DIR gets)
#
# Settings (environment): STACK_DIR, CACHE_DIR, KAFKA_PORT, KAFKA_CONTROLLER_PORT,
# KAFKA_SASL_PORT, MINIO_PORT, MINIO_CONSOLE_PORT, MINIO_ROOT_USER,
# MINIO_ROOT_PASSWORD, MINIO_SCANNER_SPEED (default slowest), COS_BUCKET, POSTGRES_PORT, POSTGRES_BIN_DIR,
# STACK_TIMEOUT (seconds to wait for readiness).
set -euo pipefail

# ---------------------------------------------------------------------------
# Locations and settings
# ---------------------------------------------------------------------------

# Resolve the repo from this file, not the cwd, so the script works from anywhere
# (npm scripts, test harnesses, CI).
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/../.." && pwd -P)"

# Both overridable so a test suite can run a second, isolated stack. The installs
# (about 50 MB of jars, a MinIO built in minutes) are the same for every clone, so
# they live once per user; the state belongs to each clone.
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.local-stack}"
CACHE_DIR="${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orderflow-stack}"

KAFKA_VERSION="3.9.1"
# MinIO is built from source with `go install`. The Go module proxy reachable here
# serves github.com/minio/minio only at this pseudo-version: the final commit of
# the (now archived) minio/minio repository, 2026-02-12, which comes after the last
# tagged release RELEASE.2025-10-15T17-29-55Z. The RELEASE.* tag names themselves
# are refused by the proxy ("This module version is not available").
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-19094}"
MINIO_PORT="${MINIO_PORT:-19000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-19001}"
# Fixed test credentials: this MinIO only ever listens on loopback.
MINIO_ROOT_USER="${MINIO_ROOT_USER:-orderflow}"
MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-orderflow-secret}"
COS_BUCKET="${COS_BUCKET:-orderflow}"
STACK_TIMEOUT="${STACK_TIMEOUT:-90}"

KAFKA_LIBS="$CACHE_DIR/kafka/libs"
KAFKA_MARKER="$KAFKA_LIBS/.complete"
MINIO_BIN="$CACHE_DIR/bin/minio"
MINIO_MARKER="$CACHE_DIR/bin/.minio-version"

KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_PID="$STACK_DIR/kafka.pid"
KAFKA_OUT="$STACK_DIR/kafka.log"
KAFKA_READY="$STACK_DIR/kafka.ready"
KAFKA_API_KEY_FILE="$KAFKA_DIR/api-key"
KAFKA_STOREPASS_FILE="$KAFKA_DIR/keystore-password"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster-id"
KAFKA_KEYSTORE="$KAFKA_DIR/server.p12"
KAFKA_CA_PEM="$KAFKA_DIR/ca.pem"
MINIO_DATA="$STACK_DIR/minio/data"
MINIO_PID="$STACK_DIR/minio.pid"
MINIO_OUT="$STACK_DIR/minio.log"
ENV_FILE="$STACK_DIR/env"

# PostgreSQL: see the "PostgreSQL" section below.
POSTGRES_PORT="${POSTGRES_PORT:-19432}"
PG_DIR="$STACK_DIR/postgres"
PG_PASSWORD_FILE="$PG_DIR/password"
PG_OUT="$STACK_DIR/postgres.log"
PG_ROLE=orderflow
PG_DATABASE=orderflow

# Written into server.log before each broker start; readiness only counts a
# "Kafka Server started" line that comes after the latest marker.
START_MARKER="=== stack.sh: broker start"

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with millisecond precision, for the timings we print.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# True when something accepts TCP connections on 127.0.0.1:<port>. Uses bash's
# /dev/tcp so no extra tool (nc) is needed; `timeout` bounds a hung connect.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Prints the pid from a pid file if that process is alive and its command line
# contains <pattern> (guards against a recycled pid); fails otherwise.
live_pid() {
  local file="$1" pattern="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
  echo "$pid"
}

# Random URL-safe token of <n> bytes of entropy.
random_token() {
  head -c "$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# A Kafka cluster id: a base64url (unpadded) 16-byte UUID, read from <source>
# (default /dev/urandom). It must not start with "-", which the storage tool
# would read as an option (about 1 id in 64 did): the first base64 character
# encodes the first byte's top 6 bits, and "-" (62) and "_" (63) both need the
# top bit set, so clearing it makes the first character one of A-Za-f. That
# costs one bit of the 128, and the id stays a valid UUID for Kafka.
kafka_cluster_id() {
  local hex first
  hex="$(head -c 16 "${1:-/dev/urandom}" | od -An -tx1 -v | tr -d ' \n')"
  [[ ${#hex} -eq 32 ]] || die "could not read 16 random bytes for the cluster id"
  first=$(( 0x${hex:0:2} & 0x7f ))
  printf '%02x%s' "$first" "${hex:2}" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 | tr '+/' '-_' | tr -d '=\n'
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not on PATH"; }

# ---------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------

kafka_marker_value() {
  printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$SCRIPT_DIR/kafka-pom.xml" | cut -c1-16)"
}
kafka_installed() {
  [[ "$(cat "$KAFKA_MARKER" 2>/dev/null || true)" == "$(kafka_marker_value)" ]]
}
minio_installed() {
  [[ -x "$MINIO_BIN" && "$(cat "$MINIO_MARKER" 2>/dev/null || true)" == "$MINIO_VERSION" ]]
}

install_kafka() {
  # The marker holds the version and a hash of the pom, so editing the pom (or
  # bumping the version) triggers a fresh copy, and an interrupted copy (no
  # marker) is redone rather than trusted.
  local want
  want="$(kafka_marker_value)"
  if kafka_installed; then
    log "kafka $KAFKA_VERSION: cached in $KAFKA_LIBS"
    return 0
  fi
  need mvn
  need java
  local t0 work
  t0="$(now)"
  log "kafka $KAFKA_VERSION: resolving jars from Maven Central (first time takes a minute)"
  # Run Maven on a copy of the pom inside the cache, so nothing (target/ etc.) is
  # ever written into scripts/stack/. Copy into a scratch dir and swap at the end,
  # so a failed run never leaves a half-filled libs dir behind.
  work="$CACHE_DIR/kafka/work"
  rm -rf "$work" "$KAFKA_LIBS.tmp"
  mkdir -p "$work" "$CACHE_DIR/m2"
  cp "$SCRIPT_DIR/kafka-pom.xml" "$work/pom.xml"
  # Maven's output goes to a log (Debian's mvn prints stray colour codes even with
  # -q); it is shown only when something fails.
  if ! mvn -q -B -f "$work/pom.xml" \
      -Dmaven.repo.local="$CACHE_DIR/m2" \
      dependency:copy-dependencies \
      -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS.tmp" \
      >"$CACHE_DIR/kafka-install.log" 2>&1; then
    tail -n 30 "$CACHE_DIR/kafka-install.log" >&2
    die "maven failed; see $CACHE_DIR/kafka-install.log"
  fi
  [[ -f "$KAFKA_LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  rm -rf "$KAFKA_LIBS" "$work"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  echo "$want" >"$KAFKA_MARKER"
  log "kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS ($(elapsed "$t0") s)"
}

install_minio() {
  if minio_installed; then
    log "minio $MINIO_VERSION: cached at $MINIO_BIN"
    return 0
  fi
  need go
  local t0
  t0="$(now)"
  log "minio $MINIO_VERSION: building with $(go env GOVERSION) (several minutes on 2 cores; log: $CACHE_DIR/minio-build.log)"
  mkdir -p "$CACHE_DIR/bin" "$CACHE_DIR/go"
  # - CGO_ENABLED=0: a static binary, no C toolchain needed.
  # - GOMODCACHE/GOCACHE under $CACHE_DIR: everything the stack needs lives (and is
  #   cleaned) in one place; -modcacherw keeps `rm -rf "$CACHE_DIR"` working
  #   (Go makes module files read-only by default).
  # - GOTOOLCHAIN=local: build with the installed Go, never fetch another toolchain.
  if ! CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$CACHE_DIR/bin" \
      GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/build" \
      go install -modcacherw -trimpath "$MINIO_MODULE@$MINIO_VERSION" \
      >"$CACHE_DIR/minio-build.log" 2>&1; then
    tail -n 30 "$CACHE_DIR/minio-build.log" >&2
    die "building minio failed; see $CACHE_DIR/minio-build.log"
  fi
  echo "$MINIO_VERSION" >"$MINIO_MARKER"
  # The compiled-package cache (~1 GB) is of no use once the binary exists; the
  # module cache stays so a rebuild does not download again.
  rm -rf "$CACHE_DIR/go/build"
  log "minio $MINIO_VERSION: built $MINIO_BIN ($(elapsed "$t0") s)"
}

cmd_install() {
  # Installed by the machine's package manager, not here: only checked.
  install_postgres
  mkdir -p "$CACHE_DIR"
  # The two downloads are independent; run them side by side to save wall time.
  # The MinIO build dominates anyway (compiling ~1000 packages).
  local kpid mpid rc=0
  install_kafka & kpid=$!
  install_minio & mpid=$!
  wait "$kpid" || rc=1
  wait "$mpid" || rc=1
  [[ $rc -eq 0 ]] || die "install failed"
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------

# Secrets, keystore and cluster id are created once per STACK_DIR and reused on
# every start: the fault tests restart the broker and expect clients configured
# with the old API key and CA to keep working.
kafka_prepare() {
  need java
  need keytool
  mkdir -p "$KAFKA_DIR" "$KAFKA_DATA" "$KAFKA_LOGS"
  chmod 700 "$KAFKA_DIR"
  [[ -s "$KAFKA_API_KEY_FILE" ]] || { random_token 32 >"$KAFKA_API_KEY_FILE"; chmod 600 "$KAFKA_API_KEY_FILE"; }
  [[ -s "$KAFKA_STOREPASS_FILE" ]] || { random_token 18 >"$KAFKA_STOREPASS_FILE"; chmod 600 "$KAFKA_STOREPASS_FILE"; }
  # A Kafka cluster id is a base64url (unpadded) 16-byte UUID; generating it here
  # saves starting a JVM for `StorageTool random-uuid`.
  [[ -s "$KAFKA_CLUSTER_ID_FILE" ]] || kafka_cluster_id >"$KAFKA_CLUSTER_ID_FILE"

  local storepass
  storepass="$(cat "$KAFKA_STOREPASS_FILE")"
  if [[ ! -s "$KAFKA_KEYSTORE" || ! -s "$KAFKA_CA_PEM" ]]; then
    log "kafka: creating self-signed TLS certificate for localhost/127.0.0.1"
    rm -f "$KAFKA_KEYSTORE" "$KAFKA_CA_PEM"
    # Self-signed, so the certificate is its own CA: clients trust ca.pem, which
    # mimics Event Streams (TLS + SASL PLAIN) without a public CA.
    keytool -genkeypair -noprompt -alias localhost \
      -keyalg RSA -keysize 2048 -validity 3650 \
      -dname "CN=localhost, OU=orderflow local stack" \
      -ext "SAN=DNS:localhost,IP:127.0.0.1" \
      -storetype PKCS12 -keystore "$KAFKA_KEYSTORE" \
      -storepass "$storepass" -keypass "$storepass" >/dev/null 2>&1 \
      || die "keytool -genkeypair failed"
    keytool -exportcert -rfc -alias localhost \
      -keystore "$KAFKA_KEYSTORE" -storetype PKCS12 -storepass "$storepass" \
      -file "$KAFKA_CA_PEM" >/dev/null 2>&1 \
      || die "keytool -exportcert failed"
  fi
  kafka_write_properties
}

kafka_write_properties() {
  local key storepass
  key="$(cat "$KAFKA_API_KEY_FILE")"
  storepass="$(cat "$KAFKA_STOREPASS_FILE")"
  # Regenerated on every start so port overrides take effect; the identity
  # (cluster id in meta.properties, keys, certs) lives in separate files.
  cat >"$KAFKA_PROPS" <<EOF
# Generated by scripts/stack/stack.sh on every broker start; edits are overwritten.
# Single-node KRaft: this process is both the controller quorum and the broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
controller.listener.names=CONTROLLER

# PLAINTEXT for the app's plain tests, CONTROLLER for KRaft, and SASL_SSL with
# PLAIN like IBM Event Streams (user "token", password = API key). The SASL_SSL
# socket binds to 127.0.0.1 only (binding "localhost" could pick ::1 on some
# hosts) but is advertised as "localhost" so hostname verification matches the
# certificate's SAN.
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT},SASL_SSL://127.0.0.1:${KAFKA_SASL_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},SASL_SSL://localhost:${KAFKA_SASL_PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT

sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="token" password="${key}" user_token="${key}";

ssl.keystore.type=PKCS12
ssl.keystore.location=${KAFKA_KEYSTORE}
ssl.keystore.password=${storepass}
ssl.key.password=${storepass}
ssl.client.auth=none
ssl.enabled.protocols=TLSv1.2,TLSv1.3

log.dirs=${KAFKA_DATA}

# One broker: every internal topic must make do with one replica. The two
# transaction.state.log settings are what lets publishTransactionally (Kafka
# transactions, adr/0017) work on one node: with the defaults (3 and 2) the
# coordinator cannot create __transaction_state and every InitProducerId fails.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Fewer internal partitions than the defaults (50) so the first consumer group and
# the first transaction do not wait for 50 partitions to be created.
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6
# Tests want consumers to get their partitions at once, not after 3 s.
group.initial.rebalance.delay.ms=0
num.partitions=6
# The app creates its topics explicitly; auto-create stays on (Kafka's default) so
# ad-hoc tools and smoke tests work too.
auto.create.topics.enable=true
delete.topic.enable=true

# After a crash (kill -9) the restarted broker cannot register until the old
# registration's session expires (DUPLICATE_BROKER_REGISTRATION). The default 9 s
# session makes each crash-restart in the fault tests take ~15 s; 5 s (with a
# 1 s heartbeat, still 5 beats per session) halves the wait without fencing the
# broker on a busy 2-core machine. A clean stop (SIGTERM) is not affected.
broker.session.timeout.ms=5000
broker.heartbeat.interval.ms=1000

# Sized for a 2-core machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=268435456
EOF
  chmod 600 "$KAFKA_PROPS"
}

kafka_classpath() { printf '%s/*' "$KAFKA_LIBS"; }

kafka_format_if_needed() {
  # StorageTool refuses to re-format; run it only for a fresh data dir so a
  # restart keeps all topics and offsets.
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  log "kafka: formatting storage (cluster id $(cat "$KAFKA_CLUSTER_ID_FILE"))"
  java -cp "$(kafka_classpath)" \
    -Dlog4j.configuration="file:$SCRIPT_DIR/log4j.properties" -Dkafka.logs.dir="$KAFKA_LOGS" \
    kafka.tools.StorageTool format \
    -t "$(cat "$KAFKA_CLUSTER_ID_FILE")" -c "$KAFKA_PROPS" >>"$KAFKA_OUT" 2>&1 \
    || die "kafka storage format failed; see $KAFKA_OUT"
}

kafka_launch() {
  if live_pid "$KAFKA_PID" kafka.Kafka >/dev/null; then
    log "kafka: already running (pid $(cat "$KAFKA_PID"))"
    return 0
  fi
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"; do
    port_open "$p" && die "port $p is already in use by another process (not this stack's broker)"
  done
  kafka_prepare
  kafka_format_if_needed
  rm -f "$KAFKA_READY"
  printf '%s %s\n' "$START_MARKER" "$(date -Is)" >>"$KAFKA_LOGS/server.log"
  printf '%s %s\n' "$START_MARKER" "$(date -Is)" >>"$KAFKA_OUT"
  # JVM sized for a small machine: small fixed-ish heap, G1 with short pauses and
  # few GC threads (2 cores are shared with the tests and MinIO).
  local -a jvm=(
    -Xms256m -Xmx768m
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:ParallelGCThreads=2 -XX:ConcGCThreads=1
    -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j.configuration="file:$SCRIPT_DIR/log4j.properties"
    -Dkafka.logs.dir="$KAFKA_LOGS"
  )
  # setsid + nohup: the broker survives the shell (and a test runner's process
  # group) that started it. In a non-interactive shell the background child is
  # not a group leader, so setsid execs in place and $! is the JVM's pid.
  setsid nohup java "${jvm[@]}" -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_PROPS" \
    >>"$KAFKA_OUT" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  log "kafka: started pid $(cat "$KAFKA_PID") (log: $KAFKA_LOGS/server.log, stdout: $KAFKA_OUT)"
}

# The broker logs "Kafka Server started" once its socket servers take requests;
# a mere open port is not enough (the sockets bind earlier). Only a line after
# the latest start marker counts. Read forwards with a single awk: piping
# through tac and exiting early would SIGPIPE tac and fail under pipefail.
kafka_started_since_marker() {
  [[ -f "$KAFKA_LOGS/server.log" ]] || return 1
  awk -v m="$START_MARKER" '
    index($0, m) == 1 { found = 0; next }
    /Kafka Server started/ { found = 1 }
    END { exit !found }' "$KAFKA_LOGS/server.log"
}

# Ready = this stack's broker process is alive, both client ports accept TCP,
# and that process has logged its start. The last part is remembered per pid in
# kafka.ready, so later checks stay cheap and survive server.log being rotated.
kafka_ready() {
  local pid
  pid="$(live_pid "$KAFKA_PID" kafka.Kafka)" || return 1
  port_open "$KAFKA_PORT" && port_open "$KAFKA_SASL_PORT" || return 1
  [[ "$(cat "$KAFKA_READY" 2>/dev/null || true)" == "$pid" ]] && return 0
  kafka_started_since_marker || return 1
  echo "$pid" >"$KAFKA_READY"
}

# Waits until the check `$2` passes. Dies, with the last lines of a log, when `$3` says the
# server exited (log `$4`) or STACK_TIMEOUT passes (log `$5`); `$6` tells where to look.
await_server() {
  local name="$1" ready="$2" running="$3" exit_log="$4" timeout_log="$5" see="$6" deadline
  deadline=$((SECONDS + STACK_TIMEOUT))
  until "$ready"; do
    if ! "$running"; then
      tail -n 20 "$exit_log" >&2 || true
      die "$name exited during startup; see $see"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$timeout_log" >&2 || true
      die "$name not ready after ${STACK_TIMEOUT}s; see $see"
    fi
    sleep 0.2
  done
}

kafka_running() { live_pid "$KAFKA_PID" kafka.Kafka >/dev/null; }

kafka_wait() {
  local t0
  t0="$(now)"
  await_server kafka kafka_ready kafka_running "$KAFKA_OUT" "$KAFKA_LOGS/server.log" "$KAFKA_OUT and $KAFKA_LOGS/server.log"
  log "kafka: ready on 127.0.0.1:$KAFKA_PORT (PLAINTEXT) and localhost:$KAFKA_SASL_PORT (SASL_SSL) after $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------
# MinIO
# ---------------------------------------------------------------------------

minio_url() { printf 'http://127.0.0.1:%s' "$MINIO_PORT"; }

minio_ready() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(minio_url)/minio/health/live" || true)" == 200 ]]
}

minio_launch() {
  if live_pid "$MINIO_PID" minio >/dev/null; then
    log "minio: already running (pid $(cat "$MINIO_PID"))"
    return 0
  fi
  for p in "$MINIO_PORT" "$MINIO_CONSOLE_PORT"; do
    port_open "$p" && die "port $p is already in use by another process (not this stack's MinIO)"
  done
  mkdir -p "$MINIO_DATA"
  printf '=== stack.sh: minio start %s\n' "$(date -Is)" >>"$MINIO_OUT"
  # MINIO_UPDATE/CALLHOME off: there is no internet here and no point trying.
  # The scanner (usage, lifecycle, healing: nothing these tests use) walks every object once a
  # minute at its default speed: with the bench's 60,000 objects it kept 0.09 of the 2 cores busy
  # with nothing else running, in bursts inside the service's measurements; at its slowest, 0.001
  # (adr/0020). MINIO_SCANNER_SPEED in the environment overrides it.
  MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" \
  MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off MINIO_BROWSER_REDIRECT=off \
  MINIO_SCANNER_SPEED="${MINIO_SCANNER_SPEED:-slowest}" \
    setsid nohup "$MINIO_BIN" server "$MINIO_DATA" \
      --address "127.0.0.1:$MINIO_PORT" \
      --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
      >>"$MINIO_OUT" 2>&1 </dev/null &
  echo $! >"$MINIO_PID"
  log "minio: started pid $(cat "$MINIO_PID") (log: $MINIO_OUT)"
}

minio_create_bucket() {
  # PUT Bucket signed with SigV4 by curl itself (no aws cli needed). 200 = created;
  # 409 BucketAlreadyOwnedByYou = it exists from an earlier run, also fine.
  local body code
  body="$(mktemp)"
  code="$(curl -s -o "$body" -w '%{http_code}' --max-time 10 \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD" \
    -X PUT "$(minio_url)/$COS_BUCKET" || true)"
  if [[ "$code" == 200 ]]; then
    log "minio: created bucket $COS_BUCKET"
  elif grep -q BucketAlreadyOwnedByYou "$body"; then
    log "minio: bucket $COS_BUCKET exists"
  else
    cat "$body" >&2; rm -f "$body"
    die "creating bucket $COS_BUCKET failed (HTTP $code)"
  fi
  rm -f "$body"
}

minio_running() { live_pid "$MINIO_PID" minio >/dev/null; }

minio_wait() {
  local t0
  t0="$(now)"
  await_server minio minio_ready minio_running "$MINIO_OUT" "$MINIO_OUT" "$MINIO_OUT"
  minio_create_bucket
  log "minio: ready on $(minio_url) after $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# The server comes from the machine's packages (Debian: apt-get install postgresql),
# not from a download: Debian keeps its programs in /usr/lib/postgresql/<ver>/bin,
# off PATH. POSTGRES_BIN_DIR overrides; otherwise the newest Debian version, then
# pg_config, then PATH (Homebrew, other distributions).
pg_bindir() {
  local dir
  if [[ -n "${POSTGRES_BIN_DIR:-}" ]]; then
    echo "$POSTGRES_BIN_DIR"
    return 0
  fi
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -z "$dir" ]] && command -v pg_config >/dev/null 2>&1; then dir="$(pg_config --bindir)"; fi
  if [[ -z "$dir" ]] && command -v initdb >/dev/null 2>&1; then dir="$(dirname "$(command -v initdb)")"; fi
  echo "$dir"
}

postgres_installed() {
  local dir
  dir="$(pg_bindir)"
  [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/pg_isready" && -x "$dir/psql" ]]
}

install_postgres() {
  if ! postgres_installed; then
    die "PostgreSQL (15 or newer) is not installed: no initdb/pg_ctl in /usr/lib/postgresql/*/bin, pg_config --bindir or PATH. Install it with: sudo apt-get install -y postgresql (Debian/Ubuntu), or set POSTGRES_BIN_DIR"
  fi
  local version
  version="$("$(pg_bindir)/postgres" --version 2>/dev/null || true)"
  [[ "$version" =~ \ ([0-9]+) ]] && ((BASH_REMATCH[1] >= 15)) \
    || die "PostgreSQL 15 or newer is needed; $(pg_bindir) has: ${version:-an unknown version}"
  log "postgres: $version in $(pg_bindir)"
}

# PostgreSQL refuses to run as root. As root (CI, containers) the server runs as
# the package's unprivileged "postgres" user, which must own its data and socket
# directories and be able to reach them; as anyone else it runs as that user.
pg_as() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives: under the stack dir when the server's user can reach it,
# else (root with a stack dir under, say, /root) in /tmp, keyed by the stack dir so
# two stacks never share one. Secrets (the password) stay in $PG_DIR either way.
pg_home() {
  if ((EUID == 0)) && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    printf '/tmp/orderflow-postgres-%s\n' "$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-12)"
  else
    printf '%s\n' "$PG_DIR"
  fi
}

pg_ctl_() { pg_as "$(pg_bindir)/pg_ctl" -D "$(pg_home)/data" "$@"; }

postgres_url() {
  printf 'postgresql://%s:%s@127.0.0.1:%s/%s' "$PG_ROLE" "$(cat "$PG_PASSWORD_FILE")" "$POSTGRES_PORT" "$PG_DATABASE"
}

# One env line, or none before the first `up` created the password.
postgres_env_line() {
  [[ -s "$PG_PASSWORD_FILE" ]] && printf 'export DATABASE_URL=%s\n' "$(postgres_url)"
  return 0
}

postgres_running() { pg_ctl_ status >/dev/null 2>&1; }

postgres_ready() {
  postgres_installed && postgres_running \
    && "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 2 >/dev/null 2>&1
}

# Runs SQL (from stdin) as the cluster's superuser over the private socket; the
# SQL is on stdin rather than in argv so the password never shows up in ps.
pg_superuser_sql() {
  pg_as "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_home)/run" -p "$POSTGRES_PORT" \
    -U postgres -d postgres >/dev/null
}

# Written on every start so port overrides take effect (as server.properties is).
postgres_write_config() {
  local home
  home="$(pg_home)"
  pg_as tee "$home/data/orderflow.conf" >/dev/null <<CONF
# Generated by scripts/stack/stack.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = ${POSTGRES_PORT}
unix_socket_directories = '${home}/run'
# Sized for a 2-core test machine shared with Kafka and MinIO.
max_connections = 100
shared_buffers = 64MB
log_destination = 'stderr'
logging_collector = off
log_min_messages = warning
CONF
}

postgres_init_if_needed() {
  local home
  home="$(pg_home)"
  mkdir -p "$PG_DIR"
  chmod 755 "$PG_DIR"
  [[ -s "$PG_PASSWORD_FILE" ]] || { random_token 24 >"$PG_PASSWORD_FILE"; chmod 600 "$PG_PASSWORD_FILE"; }
  [[ -f "$home/data/PG_VERSION" && -f "$home/initialised" ]] && return 0
  # A directory in /tmp that someone else made must not become our data dir.
  if [[ "$home" != "$PG_DIR" && -e "$home" && "$(stat -c %U "$home")" != postgres ]]; then
    die "$home exists but is not owned by postgres; remove it and retry"
  fi
  log "postgres: initialising a cluster in $home/data"
  rm -rf "$home/data"
  mkdir -p "$home/data" "$home/run"
  chmod 700 "$home/data" "$home/run"
  # Only what the server needs: the password file stays with the invoking user.
  if ((EUID == 0)); then chown postgres:postgres "$home" "$home/data" "$home/run"; fi
  # Loopback TCP needs the role's password (scram); the socket, in a directory only
  # the server's user (and root) can enter, trusts the bootstrap superuser so this
  # script can create the role without a second secret.
  pg_as "$(pg_bindir)/initdb" -D "$home/data" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_OUT" 2>&1 \
    || die "initdb failed; see $PG_OUT"
  printf "include_if_exists = 'orderflow.conf'\n" | pg_as tee -a "$home/data/postgresql.conf" >/dev/null
  postgres_write_config
  pg_ctl_ -l "$(pg_home)/server.log" -w -t "$STACK_TIMEOUT" start >>"$PG_OUT" 2>&1 || die "postgres did not start; see $(pg_home)/server.log"
  pg_superuser_sql <<SQL || die "creating role $PG_ROLE and database $PG_DATABASE failed"
CREATE ROLE ${PG_ROLE} LOGIN PASSWORD '$(cat "$PG_PASSWORD_FILE")';
CREATE DATABASE ${PG_DATABASE} OWNER ${PG_ROLE};
SQL
  pg_as touch "$home/initialised"
  log "postgres: created role $PG_ROLE and database $PG_DATABASE"
}

postgres_launch() {
  if postgres_running; then
    log "postgres: already running"
    return 0
  fi
  port_open "$POSTGRES_PORT" && die "port $POSTGRES_PORT is already in use by another process (not this stack's PostgreSQL)"
  mkdir -p "$STACK_DIR"
  postgres_init_if_needed
  postgres_running && { log "postgres: started pid $(postgres_pid)"; return 0; }
  postgres_write_config
  printf '=== stack.sh: postgres start %s\n' "$(date -Is)" >>"$PG_OUT"
  # pg_ctl detaches the server itself; -W: do not wait here, postgres_wait does,
  # so the cluster starts while the JVM and MinIO start too.
  pg_ctl_ -l "$(pg_home)/server.log" -W start >>"$PG_OUT" 2>&1 || die "pg_ctl start failed; see $PG_OUT and $(pg_home)/server.log"
  log "postgres: starting (log: $(pg_home)/server.log)"
}

postgres_pid() { pg_as head -n 1 "$(pg_home)/data/postmaster.pid" 2>/dev/null || echo "?"; }

postgres_wait() {
  local t0
  t0="$(now)"
  await_server postgres postgres_ready postgres_running "$(pg_home)/server.log" "$(pg_home)/server.log" "$(pg_home)/server.log"
  log "postgres: ready on 127.0.0.1:$POSTGRES_PORT (database $PG_DATABASE, role $PG_ROLE) after $(elapsed "$t0") s"
}

# Fast shutdown (roll back open transactions, checkpoint) and, if that hangs,
# immediate (the next start runs crash recovery, which is safe).
stop_postgres() {
  if ! postgres_installed || ! postgres_running; then
    log "postgres: not running"
    return 0
  fi
  local t0
  t0="$(now)"
  if ! pg_ctl_ -m fast -w -t 20 stop >>"$PG_OUT" 2>&1; then
    log "postgres: fast shutdown did not finish in 20 s, shutting down immediately"
    pg_ctl_ -m immediate -w -t 20 stop >>"$PG_OUT" 2>&1 || die "postgres did not stop; see $PG_OUT"
  fi
  log "postgres: stopped ($(elapsed "$t0") s)"
}

purge_postgres() {
  local home
  home="$(pg_home)"
  [[ "$home" != "$PG_DIR" ]] && rm -rf "$home"
  return 0
}

# ---------------------------------------------------------------------------
# Stopping
# ---------------------------------------------------------------------------

# SIGTERM lets Kafka flush and close its logs cleanly (faster recovery on the
# next start) and MinIO finish in-flight writes; SIGKILL only after a grace period.
stop_process() {
  local name="$1" pidfile="$2" pattern="$3" grace="$4" pid t0
  if ! pid="$(live_pid "$pidfile" "$pattern")"; then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  t0="$(now)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "$name: stopped pid $pid ($(elapsed "$t0") s)"
}

stop_kafka() { stop_process kafka "$KAFKA_PID" kafka.Kafka 30; rm -f "$KAFKA_READY"; }
stop_minio() { stop_process minio "$MINIO_PID" minio 15; }

# ---------------------------------------------------------------------------
# env file
# ---------------------------------------------------------------------------

write_env() {
  mkdir -p "$STACK_DIR"
  local key=""
  [[ -s "$KAFKA_API_KEY_FILE" ]] && key="$(cat "$KAFKA_API_KEY_FILE")"
  # Write to a temp file and rename, so a reader never sees half a file.
  cat >"$ENV_FILE.tmp" <<EOF
# Generated by scripts/stack/stack.sh; source it: . "$ENV_FILE"
export KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT}
export LOCAL_KAFKA_SASL_BROKERS=localhost:${KAFKA_SASL_PORT}
export LOCAL_KAFKA_SASL_USERNAME=token
export LOCAL_KAFKA_SASL_PASSWORD=${key}
export LOCAL_KAFKA_SSL_CA_FILE=${KAFKA_CA_PEM}
export COS_ENDPOINT=http://127.0.0.1:${MINIO_PORT}
export COS_BUCKET=${COS_BUCKET}
export COS_ACCESS_KEY_ID=${MINIO_ROOT_USER}
export COS_SECRET_ACCESS_KEY=${MINIO_ROOT_PASSWORD}
export COS_FORCE_PATH_STYLE=true
$(postgres_env_line)
EOF
  chmod 600 "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

both_up() {
  kafka_ready && minio_ready && postgres_ready
}

cmd_up() {
  local t0
  t0="$(now)"
  if both_up; then
    write_env
    log "already up: kafka 127.0.0.1:$KAFKA_PORT / localhost:$KAFKA_SASL_PORT, minio $(minio_url), postgres 127.0.0.1:$POSTGRES_PORT; env: $ENV_FILE"
    return 0
  fi
  if ! kafka_installed || ! minio_installed; then cmd_install; fi
  install_postgres
  mkdir -p "$STACK_DIR"
  # Launch all, then wait for all: the JVM, MinIO and PostgreSQL start in parallel.
  kafka_launch
  minio_launch
  postgres_launch
  minio_wait
  postgres_wait
  kafka_wait
  write_env
  log "stack up in $(elapsed "$t0") s; env: $ENV_FILE"
}

cmd_start_kafka() {
  kafka_installed || install_kafka
  mkdir -p "$STACK_DIR"
  kafka_launch
  kafka_wait
  write_env
}

cmd_start_minio() {
  minio_installed || install_minio
  mkdir -p "$STACK_DIR"
  minio_launch
  minio_wait
  write_env
}

cmd_start_postgres() {
  install_postgres
  mkdir -p "$STACK_DIR"
  postgres_launch
  postgres_wait
  write_env
}

cmd_down() {
  local purge="${1:-}" kpid mpid ppid
  [[ -z "$purge" || "$purge" == "--purge" ]] || die "unknown option for down: $purge (only --purge)"
  # Stop all at once: each may take a few seconds to shut down cleanly.
  stop_kafka & kpid=$!
  stop_minio & mpid=$!
  stop_postgres & ppid=$!
  wait "$kpid" "$mpid" "$ppid"
  if [[ "$purge" == "--purge" ]]; then
    # Refuse obviously wrong targets; STACK_DIR can come from the environment.
    case "$STACK_DIR" in
      "" | "/" | "$HOME" | "$REPO_ROOT") die "refusing to delete STACK_DIR=$STACK_DIR" ;;
    esac
    purge_postgres
    rm -rf "$STACK_DIR"
    log "purged $STACK_DIR"
  fi
}

cmd_status() {
  local pid rc=0
  if pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"; then
    if kafka_ready; then
      echo "kafka: up (pid $pid) PLAINTEXT 127.0.0.1:$KAFKA_PORT, SASL_SSL localhost:$KAFKA_SASL_PORT"
    else
      echo "kafka: starting (pid $pid), not ready yet"; rc=1
    fi
  else
    echo "kafka: down"; rc=1
  fi
  if pid="$(live_pid "$MINIO_PID" minio)"; then
    if minio_ready; then
      echo "minio: up (pid $pid) $(minio_url), console http://127.0.0.1:$MINIO_CONSOLE_PORT, bucket $COS_BUCKET"
    else
      echo "minio: starting (pid $pid), not ready yet"; rc=1
    fi
  else
    echo "minio: down"; rc=1
  fi
  if postgres_installed && postgres_running; then
    if postgres_ready; then
      echo "postgres: up (pid $(postgres_pid)) 127.0.0.1:$POSTGRES_PORT, database $PG_DATABASE, role $PG_ROLE, data $(pg_home)/data"
    else
      echo "postgres: starting (pid $(postgres_pid)), not ready yet"; rc=1
    fi
  else
    echo "postgres: down"; rc=1
  fi
  echo "state: $STACK_DIR  cache: $CACHE_DIR  env: $ENV_FILE"
  return $rc
}

cmd_env() {
  if [[ "${1:-}" == "--path" ]]; then
    echo "$ENV_FILE"
    return 0
  fi
  [[ -f "$ENV_FILE" ]] || die "no env file yet at $ENV_FILE; run: $0 up"
  cat "$ENV_FILE"
}

usage() {
  # Up to the end of the header comment, however many lines the settings take.
  sed -n '/^# Usage:/,/^set -euo pipefail/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down "${1:-}" ;;
    purge) cmd_down --purge ;;
    start-kafka) cmd_start_kafka ;;
    stop-kafka) stop_kafka ;;
    start-minio) cmd_start_minio ;;
    stop-minio) stop_minio ;;
    start-postgres) cmd_start_postgres ;;
    stop-postgres) stop_postgres ;;
    status) cmd_status ;;
    env) cmd_env "${1:-}" ;;
    cluster-id) kafka_cluster_id "${1:-}"; echo ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

# Sourced (by a test of its helpers), it only defines them.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
