#!/usr/bin/env bash
# Runs the SMTP benchmark against a Postfix smtp-sink on 127.0.0.1 and writes benchmarks/target/results.md.
# It builds the adapter from this working tree; nothing is installed into the local Maven repository.
#
# Optional environment variables:
#   THREADS                       caller threads, the Posthorn pool size and delivery slots (default 4)
#   REPEATS                       timed runs per case (default 3)
#   MESSAGES_1KB, MESSAGES_100KB  messages per in-JVM run (default 6000 and 1500)
#   SOURCE_1KB, SOURCE_100KB      messages per smtp-source run (default 20000 and 4000)
#   SOURCE_SESSIONS               smtp-source session counts to measure (default "1 8")
#   COMMIT_THREADS                concurrent transactions for the commit measurement (default 8)
#   MEMORY                        1 to run the heap measurements, 0 to skip them (default 1)
#   MEMORY_HEAP                   -Xmx of the heap measurements (default 256m)
#   ATTACHMENT_MIB                attachment size in MiB (default 50)
#   BACKLOG_MESSAGES              1 KB messages to queue in the spool (default 1000000)
#   BACKLOG_MAX_SECONDS           time limit for queueing them; fewer are queued if it runs out (default 600)
#   JMH                           1 to run the JMH benchmarks of (b), (c), (p) and (e2), 0 to skip them (default 1)
#   MICRO                         1 to run cases (d) and (e) on Payara Micro, 0 to skip them (default 1)
#   MICRO_MESSAGES_1KB, MICRO_MESSAGES_100KB  messages per Payara Micro run (default MESSAGES_1KB and MESSAGES_100KB)
#   MICRO_WARMUPS                 untimed rounds of every Payara Micro case before the timed ones (default 2)
#   MICRO_HEAP                    -Xms and -Xmx of Payara Micro (default 512m)
#   MICRO_START_SECONDS           time limit for Payara Micro to boot and deploy (default 180)
#   MICRO_JFR                     1 to record a JFR profile of Payara Micro during its cases (default 0)
#   MICRO_JAVA_OPTS               further JVM options of Payara Micro, split at spaces (default none)
set -euo pipefail

THREADS=${THREADS:-4}
REPEATS=${REPEATS:-3}
MESSAGES_1KB=${MESSAGES_1KB:-6000}
MESSAGES_100KB=${MESSAGES_100KB:-1500}
SOURCE_1KB=${SOURCE_1KB:-20000}
SOURCE_100KB=${SOURCE_100KB:-4000}
SOURCE_SESSIONS=${SOURCE_SESSIONS:-"1 8"}
COMMIT_THREADS=${COMMIT_THREADS:-8}
MEMORY=${MEMORY:-1}
MEMORY_HEAP=${MEMORY_HEAP:-256m}
ATTACHMENT_MIB=${ATTACHMENT_MIB:-50}
BACKLOG_MESSAGES=${BACKLOG_MESSAGES:-1000000}
BACKLOG_MAX_SECONDS=${BACKLOG_MAX_SECONDS:-600}
JMH=${JMH:-1}
MICRO=${MICRO:-1}
MICRO_MESSAGES_1KB=${MICRO_MESSAGES_1KB:-$MESSAGES_1KB}
MICRO_MESSAGES_100KB=${MICRO_MESSAGES_100KB:-$MESSAGES_100KB}
MICRO_WARMUPS=${MICRO_WARMUPS:-2}
MICRO_HEAP=${MICRO_HEAP:-512m}
MICRO_START_SECONDS=${MICRO_START_SECONDS:-180}
MICRO_JFR=${MICRO_JFR:-0}
read -r -a MICRO_EXTRA_OPTS <<< "${MICRO_JAVA_OPTS:-}"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/benchmarks/target"
RESULTS="$OUT/results.md"
SPOOL="$OUT/spool"
MEMORY_WORK="$OUT/memory"
MICRO_WORK="$OUT/micro"
mkdir -p "$OUT"
if [[ $ROOT =~ [[:space:]] ]]; then
  # asadmin command files split lines at spaces, and the post-boot file names paths under $ROOT.
  echo "The repository path must not contain spaces: $ROOT" >&2
  exit 1
fi
TIMINGS=()
phase_started=$SECONDS
# Records how long the phase that ends now took, for the results file.
end_phase() {
  TIMINGS+=("- $1: $((SECONDS - phase_started)) s")
  phase_started=$SECONDS
}

if [[ ! -x /usr/sbin/smtp-sink || ! -x /usr/sbin/smtp-source ]]; then
  echo "smtp-sink or smtp-source is missing; installing the Debian postfix package" >&2
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix
fi

echo "Building the adapter, the benchmark module and the benchmark WAR" >&2
# -am builds the adapter from this working tree too; the class path then points at adapter/target. A relative
# output file puts each module's class path in its own target folder.
(cd "$ROOT" && mvn -q -Pbench -pl benchmarks,benchmarks/micro -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/classpath.txt)
CLASSPATH_BENCH="$ROOT/benchmarks/target/classes:$(cat "$OUT/classpath.txt")"
end_phase "build"

# Prints a free port on 127.0.0.1 that the kernel chose. Another process could take it before the server
# binds it, in which case the server fails to start and the wait for it reports that.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)

SINK_OPTIONS=()
if [[ $(id -u) -eq 0 ]]; then
  SINK_OPTIONS=(-u nobody)  # smtp-sink requires -u when started as root
fi
/usr/sbin/smtp-sink "${SINK_OPTIONS[@]}" "127.0.0.1:$PORT" 256 &
SINK_PID=$!
MICRO_PID=
# Stops Payara Micro (SIGTERM, then SIGKILL after 30 s) and smtp-sink by their PIDs, and removes the spools of
# the run (the backlog one alone takes about 1.5 GB) and Payara Micro's runtime copies. Its log stays.
cleanup() {
  if [[ -n $MICRO_PID ]]; then
    stop_micro
  fi
  kill "$SINK_PID" 2>/dev/null || true
  wait "$SINK_PID" 2>/dev/null || true
  rm -rf "$SPOOL" "$MEMORY_WORK" "$MICRO_WORK/root" "$MICRO_WORK/runtime" "$MICRO_WORK/tmp"
}
stop_micro() {
  kill "$MICRO_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$MICRO_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$MICRO_PID" 2>/dev/null; then
    echo "Payara Micro (PID $MICRO_PID) did not stop within 30 s, so it gets SIGKILL" >&2
    kill -9 "$MICRO_PID" 2>/dev/null || true
  fi
  wait "$MICRO_PID" 2>/dev/null || true
  MICRO_PID=
}
trap cleanup EXIT

# Starts Payara Micro on 127.0.0.1 with posthorn.rar, a pool of at most THREADS connections to the sink and the
# benchmark WAR. Runs cases (d) and (e) through the WAR's load endpoint, then stops Micro.
run_micro() {
  rm -rf "$MICRO_WORK"
  mkdir -p "$MICRO_WORK/root" "$MICRO_WORK/tmp"
  local http_port
  http_port=$(free_port)
  cat > "$MICRO_WORK/preboot.asadmin" <<END
set configs.config.server-config.network-config.network-listeners.network-listener.http-listener.address=127.0.0.1
set configs.config.server-config.network-config.network-listeners.network-listener.https-listener.address=127.0.0.1
END
  # The pools have the settings of (p) and (e) in the in-JVM harness, the second with twice the maximum size.
  # A post-boot file that only creates the pools fails, because it runs before --deploy, so the file deploys
  # the RAR first.
  cat > "$MICRO_WORK/postboot.asadmin" <<END
deploy $ROOT/adapter/target/posthorn.rar
create-connector-connection-pool --raname posthorn --connectiondefinition dev.posthorn.api.MailConnectionFactory --transactionsupport XATransaction --steadypoolsize 0 --maxpoolsize $THREADS --property host=127.0.0.1:port=$PORT:transportSecurity=PLAIN:connectTimeoutMillis=2000:readTimeoutMillis=10000:writeTimeoutMillis=10000:fromAddress=bench@posthorn.example:name=bench-micro:spoolDirectory=$SPOOL/micro:maxConcurrentDeliveries=$THREADS:shutdownTimeoutMillis=1000 bench-pool
create-connector-resource --poolname bench-pool mail/bench
create-connector-connection-pool --raname posthorn --connectiondefinition dev.posthorn.api.MailConnectionFactory --transactionsupport XATransaction --steadypoolsize 0 --maxpoolsize $((2 * THREADS)) --property host=127.0.0.1:port=$PORT:transportSecurity=PLAIN:connectTimeoutMillis=2000:readTimeoutMillis=10000:writeTimeoutMillis=10000:fromAddress=bench@posthorn.example:name=bench-micro-wide-pool:spoolDirectory=$SPOOL/micro-wide-pool:maxConcurrentDeliveries=$THREADS:shutdownTimeoutMillis=1000 bench-wide-pool
create-connector-resource --poolname bench-wide-pool mail/bench-wide-pool
END
  echo "Starting Payara Micro on 127.0.0.1:$http_port with its log in $MICRO_WORK/micro.log" >&2
  java "-Xms$MICRO_HEAP" "-Xmx$MICRO_HEAP" "${MICRO_EXTRA_OPTS[@]}" -Djava.io.tmpdir="$MICRO_WORK/tmp" \
    -Dhazelcast.config="$ROOT/benchmarks/micro/src/main/micro/hazelcast.xml" \
    -jar "$ROOT/benchmarks/micro/target/micro/payara-micro.jar" --nocluster --disablephonehome \
    --port "$http_port" --rootdir "$MICRO_WORK/root" --unpackdir "$MICRO_WORK/runtime" \
    --prebootcommandfile "$MICRO_WORK/preboot.asadmin" --postbootcommandfile "$MICRO_WORK/postboot.asadmin" \
    --deploy "$ROOT/benchmarks/micro/target/posthorn-bench.war" > "$MICRO_WORK/micro.log" 2>&1 &
  MICRO_PID=$!
  await_micro
  echo "Payara Micro (PID $MICRO_PID) is ready" >&2
  end_phase "Payara Micro start"

  if [[ $MICRO_JFR == 1 ]]; then
    jcmd "$MICRO_PID" JFR.start name=bench settings=profile > /dev/null
  fi
  # The endpoint limits each run to 300 s for the callers and 120 s for the deliveries, and timeout limits the client.
  rm -f "$OUT/micro.md"
  timeout 3600 java -cp "$CLASSPATH_BENCH" dev.posthorn.bench.MicroBenchmark \
    "http://127.0.0.1:$http_port/posthorn-bench/api/load" "$THREADS" "$MICRO_WARMUPS" "$REPEATS" \
    "$MICRO_MESSAGES_1KB" "$MICRO_MESSAGES_100KB" "$OUT/micro.md" "$OUT/in-jvm-medians.tsv"
  if [[ $MICRO_JFR == 1 ]]; then
    jcmd "$MICRO_PID" JFR.stop name=bench filename="$OUT/micro.jfr" > /dev/null
    echo "JFR profile of Payara Micro written to $OUT/micro.jfr" >&2
  fi
  cat "$OUT/micro.md" >> "$RESULTS"
  if grep -q SEVERE "$MICRO_WORK/micro.log"; then
    echo "- Payara Micro logged SEVERE lines during the run. See $MICRO_WORK/micro.log" >> "$RESULTS"
    echo "Payara Micro logged SEVERE lines during the run. See $MICRO_WORK/micro.log" >&2
  fi
  stop_micro
  end_phase "(d) and (e) on Payara Micro, and its stop"
}

# Waits until Payara Micro is ready and has loaded the WAR. Micro reports "ready" even when a deployment
# failed, so every SEVERE line or failed boot command ends the run.
await_micro() {
  local log="$MICRO_WORK/micro.log"
  local deadline=$((SECONDS + MICRO_START_SECONDS))
  while true; do
    if grep -E 'SEVERE|Boot Command [^ ]+ failed' "$log" >&2; then
      echo "Payara Micro (PID $MICRO_PID) logged the failures above. See $log" >&2
      exit 1
    fi
    if grep -qE 'Payara Micro .* ready in ' "$log"; then
      break
    fi
    if ! kill -0 "$MICRO_PID" 2>/dev/null; then
      echo "Payara Micro exited before it was ready. See $log" >&2
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "Payara Micro was not ready after $MICRO_START_SECONDS s. See $log" >&2
      exit 1
    fi
    sleep 0.5
  done
  if ! grep -q 'Loading application \[posthorn-bench\]' "$log"; then
    echo "Payara Micro is ready but did not load posthorn-bench.war. See $log" >&2
    exit 1
  fi
}

for _ in $(seq 1 50); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2).close()" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SINK_PID" 2>/dev/null; then
    echo "smtp-sink failed to start on 127.0.0.1:$PORT" >&2
    exit 1
  fi
  sleep 0.1
done
echo "smtp-sink (PID $SINK_PID) listens on 127.0.0.1:$PORT" >&2

{
  echo "# Posthorn SMTP benchmark results"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
  echo "- JVM: $(java -version 2>&1 | sed -n 2p)"
  echo "- Server: Postfix smtp-sink on 127.0.0.1, backlog 256"
  echo "- Spool file system: $(df -T "$OUT" | awk 'NR == 2 {print $2 " on " $1 ", mounted on " $7}')"
  if commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD -- adapter || commit="$commit with uncommitted changes"
    echo "- Adapter: commit $commit"
  fi
  if [[ -n ${MICRO_JAVA_OPTS:-} ]]; then
    echo "- Further JVM options of Payara Micro: \`$MICRO_JAVA_OPTS\`"
  fi
  echo
} > "$RESULTS"

# (a) smtp-source -> smtp-sink: the machine's limit for this sink, connections reused (-d).
{
  echo "## (a) smtp-source -> smtp-sink, connections reused"
  echo
  echo "Wall and CPU time of the smtp-source process from /usr/bin/time; median of $REPEATS runs."
  echo
  echo "| sessions | size | messages per run | msg/s | smtp-source CPU s per 1,000 msg | msg/s of each run |"
  echo "| ---: | --- | ---: | ---: | ---: | --- |"
} >> "$RESULTS"
for size in 1024 102400; do
  if [[ $size -eq 1024 ]]; then count=$SOURCE_1KB; else count=$SOURCE_100KB; fi
  for sessions in $SOURCE_SESSIONS; do
    rates=()
    cpus=()
    for _ in $(seq 1 "$REPEATS"); do
      /usr/bin/time -f '%e %U %S' -o "$OUT/source-time.txt" \
        /usr/sbin/smtp-source -d -s "$sessions" -l "$size" -m "$count" \
          -f bench@posthorn.example -t sink@posthorn.example "127.0.0.1:$PORT"
      read -r wall user sys < "$OUT/source-time.txt"
      rates+=("$(awk -v n="$count" -v w="$wall" 'BEGIN { printf "%.0f", n / (w > 0 ? w : 0.01) }')")
      cpus+=("$(awk -v n="$count" -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", (u + s) * 1000 / n }')")
    done
    median_rate=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    median_cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "| $sessions | $((size / 1024)) KB | $count | $median_rate | $median_cpu | $(IFS=,; echo "${rates[*]}" | sed 's/,/, /g') |" >> "$RESULTS"
    echo "smtp-source $sessions sessions, $((size / 1024)) KB: ${rates[*]} msg/s" >&2
  done
done
echo >> "$RESULTS"
end_phase "(a) smtp-source"

# (b), (c), (p) and (e) in one JVM, interleaved, so that their ratios come from the same conditions; then
# the commit with COMMIT_THREADS concurrent transactions.
rm -rf "$SPOOL"
java -Xms512m -Xmx512m -cp "$CLASSPATH_BENCH" \
  dev.posthorn.bench.SmtpBenchmark "$PORT" "$THREADS" "$REPEATS" "$MESSAGES_1KB" "$MESSAGES_100KB" \
  "$OUT/in-jvm.md" "$SPOOL" "$COMMIT_THREADS"
cat "$OUT/in-jvm.md" >> "$RESULTS"
end_phase "(b), (c), (p), (e) and the commit measurement in one JVM"

# JMH of (b), (c), (p) and (e2) with the same sink. The forks inherit the -D and heap options of this JVM. The
# thread count (4, whatever THREADS is), iteration counts and times are annotations of SendBenchmark.
# timeout bounds the whole run.
if [[ $JMH == 1 ]]; then
  rm -f "$OUT/jmh.txt"
  timeout 900 java -Xms512m -Xmx512m -Dposthorn.bench.port="$PORT" -Dposthorn.bench.spoolDirectory="$SPOOL/jmh" \
    -cp "$CLASSPATH_BENCH" org.openjdk.jmh.Main dev.posthorn.bench.SendBenchmark \
    -rf text -rff "$OUT/jmh.txt" > "$OUT/jmh.log"
  {
    echo "## JMH: (b), (c), (p) and (e2)"
    echo
    echo "JMH 1.37, SendBenchmark: 4 threads, 1 fork, 5 warm-up and 3 measurement iterations of 2 s. Full log: benchmarks/target/jmh.log."
    echo
    echo '```'
    cat "$OUT/jmh.txt"
    echo '```'
    echo
  } >> "$RESULTS"
  end_phase "JMH of (b), (c), (p) and (e2)"
fi

# (d) and (e) on Payara Micro, after the in-JVM cases so that the two never compete for the CPUs.
if [[ $MICRO == 1 ]]; then
  run_micro
fi

# Heap measurements, each in a JVM of its own with the heap limit under test. timeout bounds each one.
if [[ $MEMORY == 1 ]]; then
  rm -rf "$MEMORY_WORK" "$OUT/memory.md"
  mkdir -p "$MEMORY_WORK"
  run_memory() {
    timeout $((BACKLOG_MAX_SECONDS + 300)) java "-Xmx$MEMORY_HEAP" -cp "$CLASSPATH_BENCH" \
      dev.posthorn.bench.MemoryBenchmark "$@" "$OUT/memory.md" \
      || echo "- MemoryBenchmark $1 exited with status $?" >> "$OUT/memory.md"
  }
  run_memory attachment "$PORT" "$ATTACHMENT_MIB" "$MEMORY_WORK"
  run_memory backlog-fill "$BACKLOG_MESSAGES" "$BACKLOG_MAX_SECONDS" "$MEMORY_WORK"
  run_memory backlog-reopen "$MEMORY_WORK"
  {
    echo
    echo "## Heap with -Xmx$MEMORY_HEAP"
    echo
    cat "$OUT/memory.md"
  } >> "$RESULTS"
  end_phase "heap measurements"
fi

{
  echo
  echo "## Timings of this run"
  echo
  printf '%s\n' "${TIMINGS[@]}"
  echo "- total: $SECONDS s"
} >> "$RESULTS"
echo "Results written to $RESULTS" >&2
