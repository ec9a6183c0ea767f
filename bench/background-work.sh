#!/usr/bin/env bash
# Store commands per second spent on background work (sweeps, gauges, heartbeats, health probes)
# by REPLICAS engine instances with TENANTS tenants, each holding one live session, on one
# redis-server. Counts come from INFO commandstats deltas over a quiet window (no MONITOR).
#
#   bench/background-work.sh            # TENANTS=10000 REPLICAS=3 WARMUP_SECONDS=20 WINDOW_SECONDS=60
#
# Needs: dotnet (SDK 10), redis-server (REDIS_SERVER=/path/to/redis-server to pick one).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REDIS_SERVER=${REDIS_SERVER:-redis-server}
WORK=$(mktemp -d /tmp/background-work.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REDIS_PID=

cleanup() {
  [[ -n $REDIS_PID ]] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 50); do
  (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.1
done

dotnet build "$ROOT/bench/BackgroundWork" -c Release -nologo -v q >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), load $(cut -d' ' -f1-3 /proc/loadavg) at start" >&2
dotnet "$ROOT/bench/BackgroundWork/bin/Release/net10.0/BackgroundWork.dll" "127.0.0.1:$PORT"
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at end" >&2
