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

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/benchmarks/target"
RESULTS="$OUT/results.md"
SPOOL="$OUT/spool"
MEMORY_WORK="$OUT/memory"
mkdir -p "$OUT"

if [[ ! -x /usr/sbin/smtp-sink || ! -x /usr/sbin/smtp-source ]]; then
  echo "smtp-sink or smtp-source is missing; installing the Debian postfix package" >&2
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix
fi

echo "Building the adapter and the benchmark module" >&2
# -am builds the adapter from this working tree too; the class path then points at adapter/target.
(cd "$ROOT" && mvn -q -Pbench -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$OUT/classpath.txt")
CLASSPATH_BENCH="$ROOT/benchmarks/target/classes:$(cat "$OUT/classpath.txt")"

# Ask the kernel for a free loopback port. Another process could take it before smtp-sink binds it,
# in which case smtp-sink fails to start and the wait below reports it.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

SINK_OPTIONS=()
if [[ $(id -u) -eq 0 ]]; then
  SINK_OPTIONS=(-u nobody)  # smtp-sink requires -u when started as root
fi
/usr/sbin/smtp-sink "${SINK_OPTIONS[@]}" "127.0.0.1:$PORT" 256 &
SINK_PID=$!
# The spools of a run are removed at the end; the backlog one alone takes about 1.5 GB.
trap 'kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; rm -rf "$SPOOL" "$MEMORY_WORK"' EXIT

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

# (b), (c), (p) and (e) in one JVM, interleaved, so that their ratios come from the same conditions; then
# the commit with COMMIT_THREADS concurrent transactions.
rm -rf "$SPOOL"
java -Xms512m -Xmx512m -cp "$CLASSPATH_BENCH" \
  dev.posthorn.bench.SmtpBenchmark "$PORT" "$THREADS" "$REPEATS" "$MESSAGES_1KB" "$MESSAGES_100KB" \
  "$OUT/in-jvm.md" "$SPOOL" "$COMMIT_THREADS"
cat "$OUT/in-jvm.md" >> "$RESULTS"

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
fi

echo "Results written to $RESULTS" >&2
