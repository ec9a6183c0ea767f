#!/usr/bin/env bash
# Benchmark harness for the seat gateway. One command:
#
#   bench/run.sh
#
# Builds Release (the gateway, bench/PlainYarp, bench/TokenMint) and starts, on loopback only,
# nginx (the backend), redis-server, the gateway on that Redis and on its embedded store, and
# plain YARP. Then, in one run: the admitted-session throughput, CPU and p99 against plain YARP
# (rounds in turn, then side by side); the CPU of an admission; exactness at the cap; Redis bytes per session and per user on a
# redis-server of their own; the embedded store's working set and what happens far above it.
# Writes docs/benchmarks.md (one verdict table first). Everything it started is stopped on exit
# (also on Ctrl-C or failure). The pieces are in bench/lib/; bench/README.md explains them.
#
# Needs: dotnet (SDK 10), wrk, nginx, redis-server, redis-cli (apt-get install -y wrk nginx redis-server).
#
# Knobs (environment):
#   ROUNDS=5  ROUND_SECONDS=10  WARMUP_SECONDS=45  CONNECTIONS=32
#     (a long warm-up, so tiered JIT compilation is done before measuring; several short rounds,
#     so a shared machine's drifting speed hits every target alike)
#   MEMORY_SESSIONS=100000 (SESSIONS is its older name)   sessions and users of the memory phases
#   SMALL_TENANTS=2000  SMALL_TENANT_SESSIONS=25          the many-small-tenants memory row
#   EMBEDDED_CEILING_SESSIONS=200000                      sessions asked of the embedded store at the end
#   CAP_SEATS=500  CAP_ATTEMPTS=3000                      the exact-at-the-cap check
#   IDLE_TIMEOUT=04:00:00   Licensing:IdleTimeout of the memory phases' gateways (no session ends)
#   BENCH_NOTE="..."   a note printed at the top of the report (e.g. "preliminary")
#   OUT=docs/benchmarks.md   where the report goes ("-" = print only)
#   SKIP_BUILD=1       reuse artifacts/bench from an earlier run
#   KEEP_WORK=1        keep the temporary directory (logs, configs, facts.tsv) after the run
#   ALLOC_PASS=0       skip the allocated-bytes pass (otherwise it uses dotnet-counters, from PATH or
#                      installed once into artifacts/bench-tools with `dotnet tool install`)
#   ALLOC_SECONDS=5    length of that pass per target
# A quick check of the harness itself (figures meaningless):
#   ROUNDS=1 ROUND_SECONDS=3 WARMUP_SECONDS=3 MEMORY_SESSIONS=5000 SMALL_TENANTS=100 \
#   EMBEDDED_CEILING_SESSIONS=10000 OUT=/tmp/bench-quick.md bench/run.sh
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
ROUND_SECONDS=${ROUND_SECONDS:-10}
# 45 s, not less: under load the gateway's tiered JIT (more code than plain YARP's) is still compiling
# after 15 s (about 7 µs of proxy CPU per request then, none after 45 s on a quiet machine).
WARMUP_SECONDS=${WARMUP_SECONDS:-45}
CONNECTIONS=${CONNECTIONS:-32}
MEMORY_SESSIONS=${MEMORY_SESSIONS:-${SESSIONS:-100000}}
SMALL_TENANTS=${SMALL_TENANTS:-2000}
SMALL_TENANT_SESSIONS=${SMALL_TENANT_SESSIONS:-25}
EMBEDDED_CEILING_SESSIONS=${EMBEDDED_CEILING_SESSIONS:-200000}
CAP_SEATS=${CAP_SEATS:-500}
CAP_ATTEMPTS=${CAP_ATTEMPTS:-3000}
IDLE_TIMEOUT=${IDLE_TIMEOUT:-04:00:00}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
BENCH_NOTE=${BENCH_NOTE:-}
ART=$ROOT/artifacts/bench
WORK=$(mktemp -d /tmp/gateway-bench.XXXXXX)
RESULTS=$WORK/results.tsv # one row per wrk run (load.sh)
FACTS=$WORK/facts.tsv     # every other measured value, by name (common.sh)
OK=0
: > "$RESULTS"; : > "$FACTS"

for piece in common processes load measure phases report; do
  # shellcheck source=/dev/null
  source "$ROOT/bench/lib/$piece.sh"
done
trap cleanup EXIT
trap 'log "error (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

# Derived sizes: the small tenants' sessions, and the ceiling's sessions spread over tenants of at
# most 50,000 users each, so the default Licensing:MaxUsersPerTenant (100,000) never refuses one.
SMALL_SESSIONS=$((SMALL_TENANTS * SMALL_TENANT_SESSIONS))
CEILING_TENANTS=$(((EMBEDDED_CEILING_SESSIONS + 49999) / 50000))
CEILING_USERS_PER_TENANT=$(((EMBEDDED_CEILING_SESSIONS + CEILING_TENANTS - 1) / CEILING_TENANTS))
STEADY_TARGETS=(backend plain gw-redis gw-embedded)
ADMIT_TARGETS=(gw-redis gw-embedded)

require_tools
build_artifacts
ISSUER=bench-issuer
AUDIENCE=bench-audience
KEY=$(openssl rand -base64 32)
mint_tokens

start_nginx
# What every proxy gets: the same routes, the same runtime settings.
PROXY_ENV=(
  ASPNETCORE_ENVIRONMENT=Production
  Logging__LogLevel__Default=Warning
  ReverseProxy__Routes__all__ClusterId=backend
  "ReverseProxy__Routes__all__Match__Path={**catch-all}"
  "ReverseProxy__Clusters__backend__Destinations__nginx__Address=${URL_OF[backend]}/"
)
# What every gateway adds: this run's token key and the plans of the proxy phases' tenants.
GATEWAY_ENV=(
  "${PROXY_ENV[@]}"
  Authentication__Schemes__Bearer__ValidIssuer=$ISSUER
  Authentication__Schemes__Bearer__ValidAudiences__0=$AUDIENCE
  Authentication__Schemes__Bearer__SigningKeys__0__Issuer=$ISSUER
  Authentication__Schemes__Bearer__SigningKeys__0__Value=$KEY
  Licensing__Tenants__bench__Model=ConcurrentSessions
  Licensing__Tenants__bench__SeatLimit=1000000
  Licensing__Tenants__cap__Model=ConcurrentSessions
  Licensing__Tenants__cap__SeatLimit=$CAP_SEATS
)
# The memory phases' gateways: sessions must stay live, and one tenant may hold MEMORY_SESSIONS users.
MEMORY_ENV=(
  Licensing__IdleTimeout=$IDLE_TIMEOUT
  Licensing__MaxUsersPerTenant=$((MEMORY_SESSIONS > 100000 ? MEMORY_SESSIONS : 100000))
  Licensing__Tenants__memsess__Model=ConcurrentSessions
  Licensing__Tenants__memsess__SeatLimit=1000000
  Licensing__Tenants__memusers__Model=RegisteredUsers
  Licensing__Tenants__memusers__SeatLimit=1000000
  Licensing__Tenants__memidle__Model=RegisteredUsers
  Licensing__Tenants__memidle__SeatLimit=1000000
)
# The ceiling phase's gateway: product defaults but for the idle timeout and the tenants' plans.
CEILING_ENV=(Licensing__IdleTimeout=$IDLE_TIMEOUT)
for ((j = 0; j < CEILING_TENANTS; j++)); do
  CEILING_ENV+=("Licensing__Tenants__ceil${j}__Model=ConcurrentSessions" "Licensing__Tenants__ceil${j}__SeatLimit=1000000")
done

log "starting Redis, plain YARP, gateway + Redis, gateway + embedded store"
start_redis redis
start_plain
start_gateway gw-redis redis
# No session ceiling here: the admission rounds open more sessions than the embedded store's default
# ceiling, which phase_embedded_ceiling measures on a gateway of its own.
start_gateway gw-embedded embedded Licensing__Embedded__MaxSessions=0
check_refusals gw-redis gw-embedded

phase_steady
phase_side_by_side
phase_admissions
phase_allocations
phase_cap
fact load.end "$(cut -d' ' -f1-3 /proc/loadavg)"
stop_named plain; stop_named gw-redis; stop_named gw-embedded; stop_named redis

phase_redis_memory
phase_embedded_memory
phase_embedded_ceiling

summarize_rounds
echo; verdict_table; echo
if [[ $OUT != - ]]; then write_report; fi
OK=1
