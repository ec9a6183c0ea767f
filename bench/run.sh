#!/usr/bin/env bash
# Benchmark harness for the seat gateway (issue 4). One command:
#
#   bench/run.sh
#
# Builds Release (the gateway, bench/PlainYarp, bench/TokenMint), starts on loopback only:
# nginx (the backend, a small JSON body), redis-server, the gateway twice (on that Redis, and on
# its embedded store) and plain YARP; measures with wrk in alternating rounds; checks admission
# is exact at the cap; measures Redis memory per session/user and the gateway's working set with
# SESSIONS live sessions; prints a markdown table and writes docs/benchmarks.md. Everything it
# started is stopped on exit (also on Ctrl-C or failure).
#
# Needs: dotnet (SDK 10), wrk, nginx, redis-server, redis-cli (apt-get install -y wrk nginx redis-server).
#
# Knobs (environment):
#   ROUNDS=5  ROUND_SECONDS=10  WARMUP_SECONDS=15  CONNECTIONS=32  SESSIONS=100000
#     (a long warm-up, so tiered JIT compilation is done before measuring; several short rounds,
#     so a shared machine's drifting speed hits every target alike)
#   BENCH_NOTE="..."   a note printed at the top of the report (e.g. "preliminary")
#   OUT=docs/benchmarks.md   where the report goes ("-" = print only)
#   SKIP_BUILD=1       reuse artifacts/bench from an earlier run
#   KEEP_WORK=1        keep the temporary directory (logs, configs) after the run
#   ALLOC_PASS=0       skip the allocated-bytes pass (otherwise it uses dotnet-counters, from PATH or
#                      installed once into artifacts/bench-tools with `dotnet tool install`)
#   ALLOC_SECONDS=5    length of that pass per target
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
ROUND_SECONDS=${ROUND_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-15}
CONNECTIONS=${CONNECTIONS:-32}
SESSIONS=${SESSIONS:-100000}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
BENCH_NOTE=${BENCH_NOTE:-}
ART=$ROOT/artifacts/bench
WORK=$(mktemp -d /tmp/gateway-bench.XXXXXX)
RESULTS=$WORK/results.tsv
PIDS=()
NGINX_STARTED=0
OK=0

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup: stop what we started
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $NGINX_STARTED == 1 && -s $WORK/nginx.pid ]]; then stop_pid "$(cat "$WORK/nginx.pid")"; fi
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  if [[ $OK != 1 ]]; then
    log "logs kept in $WORK"
    for f in "$WORK"/*.log; do [[ -f $f ]] && { echo "--- tail $f" >&2; tail -n 20 "$f" >&2; }; done
  elif [[ ${KEEP_WORK:-0} == 1 ]]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "error (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

for tool in dotnet wrk nginx redis-server redis-cli curl openssl awk; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk nginx redis-server curl)"
done

# ---------------------------------------------------------------- helpers
CLK_TCK=$(getconf CLK_TCK)
declare -A PID_OF=() URL_OF=()
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED_PORTS+="$p "; echo "$p"; return; fi
  done
}

wait_http() { # URL [seconds] [extra curl args...]: waits for a 200
  local url=$1 secs=${2:-60}; shift 2 || shift $#
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null) == 200 ]] && return 0
    sleep 0.3
  done
  return 1
}

# The reason a .NET process gave for dying: the lines after "Process terminated." or "Unhandled
# exception", else its first exception line.
crash_summary() {
  local text
  text=$(awk '/Process terminated|Unhandled exception/ {f = 1} f && NF && !/^[ \t]+at / {gsub(/^[ \t]+|\r/, ""); if (n < 4) {printf "%s%s", (n ? " / " : ""), $0; n++}}' "$1")
  [[ -n $text ]] || text=$(grep -m1 -E 'Exception|failed' "$1" | tr -d '\r')
  tr -d '|' <<< "$text" | cut -c1-400
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

to_ms() { # "812.00us" | "1.20ms" | "1.01s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time, in clock ticks

# run_wrk PHASE TARGET ROUND SECONDS URL [wrk args...]: runs wrk, appends one row to RESULTS.
# Row: phase target round req/s p50ms p99ms non2xx socket_errors requests cpu_us_per_request
# (CPU time of the target process during the run ÷ requests; "-" for the backend, a contended
# machine inflates it too, but less than it moves req/s)
run_wrk() {
  local phase=$1 target=$2 round=$3 secs=$4 url=$5; shift 5
  local out=$WORK/wrk-$phase-$target-$round.txt pid=${PID_OF[$target]:-} c0=0 c1=0
  [[ -n $pid ]] && c0=$(cpu_ticks "$pid")
  wrk -t1 -c"$CONNECTIONS" -d"${secs}s" --latency "$url" "$@" > "$out" 2>&1 || die "wrk failed: $(cat "$out")"
  [[ -n $pid ]] && c1=$(cpu_ticks "$pid")
  local rps p50 p99 non2xx errors requests cpu=-
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$out"); errors=${errors:-0}
  requests=$(awk '/requests in/ {print $1}' "$out")
  [[ -n $rps ]] || die "could not parse $out"
  [[ -n $pid && $requests -gt 0 ]] && cpu=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$target" "$round" "$rps" "$p50" "$p99" "$non2xx" "$errors" "$requests" "$cpu" >> "$RESULTS"
  log "$phase $target round $round: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, non-2xx $non2xx, socket errors $errors, CPU $cpu us/request"
}

# ---------------------------------------------------------------- build
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building Release into $ART"
  rm -rf "$ART"
  dotnet publish "$ROOT/src/Gateway" -c Release -o "$ART/gateway" --nologo -v quiet > "$WORK/build-gateway.log" 2>&1 || die "gateway build (see $WORK/build-gateway.log)"
  dotnet publish "$ROOT/bench/PlainYarp" -c Release -o "$ART/plainyarp" --nologo -v quiet > "$WORK/build-plainyarp.log" 2>&1 || die "PlainYarp build"
  dotnet publish "$ROOT/bench/TokenMint" -c Release -o "$ART/tokenmint" --nologo -v quiet > "$WORK/build-tokenmint.log" 2>&1 || die "TokenMint build"
fi
[[ -f $ART/gateway/Gateway.dll && -f $ART/plainyarp/PlainYarp.dll && -f $ART/tokenmint/TokenMint.dll ]] || die "missing build output in $ART"

# ---------------------------------------------------------------- tokens (bench-only key, made per run)
ISSUER=bench-issuer
AUDIENCE=bench-audience
KEY=$(openssl rand -base64 32)
mint() { # TENANT USERS PREFIX FILE [extra TokenMint args...]
  dotnet "$ART/tokenmint/TokenMint.dll" mint --key "$KEY" --issuer "$ISSUER" --audience "$AUDIENCE" \
    --tenant "$1" --users "$2" --user-prefix "$3" --out "$4" "${@:5}"
}
log "minting tokens"
mint bench 1 steady- "$WORK/steady.tokens"
mint bench 10000 adm- "$WORK/admit.tokens"
mint cap 3000 cap- "$WORK/cap.tokens"
mint capwide 3000 capw- "$WORK/capwide.tokens"
mint mema "$SESSIONS" ua- "$WORK/mema.tokens"
mint memb $((SESSIONS / 10)) ub- "$WORK/memb.tokens"
# An operator reads session counts through the management API: the embedded store takes a password
# made at each start, so no redis-cli can read it from outside.
mint ops 1 bench-ops- "$WORK/ops.token" --role license-operator
OPS_TOKEN=$(head -n1 "$WORK/ops.token")
STEADY_TOKEN=$(head -n1 "$WORK/steady.tokens")
STEADY_HEADERS=(-H "Authorization: Bearer $STEADY_TOKEN" -H "X-Device-Id: bench-steady-device")

# ---------------------------------------------------------------- backend: nginx
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx-tmp"
sed -e "s#@WORK@#$WORK#g" -e "s#@PORT@#$NGINX_PORT#g" "$ROOT/bench/nginx.conf" > "$WORK/nginx.conf"
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" > "$WORK/nginx.log" 2>&1 || die "nginx did not start"
NGINX_STARTED=1
wait_http "http://127.0.0.1:$NGINX_PORT/" 10 || die "nginx does not answer"
BACKEND=http://127.0.0.1:$NGINX_PORT
log "nginx on $BACKEND"

# ---------------------------------------------------------------- redis
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" --daemonize no > /dev/null 2>&1 &
PIDS+=($!)
REDIS=(redis-cli -h 127.0.0.1 -p "$REDIS_PORT")
for _ in $(seq 1 50); do [[ $("${REDIS[@]}" PING 2>/dev/null) == PONG ]] && break; sleep 0.2; done
[[ $("${REDIS[@]}" PING 2>/dev/null) == PONG ]] || die "redis-server does not answer"
log "redis on 127.0.0.1:$REDIS_PORT"

# ---------------------------------------------------------------- proxies
PROXY_ENV=(
  ASPNETCORE_ENVIRONMENT=Production
  Logging__LogLevel__Default=Warning
  ReverseProxy__Routes__all__ClusterId=backend
  "ReverseProxy__Routes__all__Match__Path={**catch-all}"
  ReverseProxy__Clusters__backend__Destinations__nginx__Address=$BACKEND/
)
GATEWAY_ENV=(
  "${PROXY_ENV[@]}"
  Authentication__Schemes__Bearer__ValidIssuer=$ISSUER
  Authentication__Schemes__Bearer__ValidAudiences__0=$AUDIENCE
  Authentication__Schemes__Bearer__SigningKeys__0__Issuer=$ISSUER
  Authentication__Schemes__Bearer__SigningKeys__0__Value=$KEY
  Licensing__Tenants__bench__Model=ConcurrentSessions
  Licensing__Tenants__bench__SeatLimit=1000000
  Licensing__Tenants__cap__Model=ConcurrentSessions
  Licensing__Tenants__cap__SeatLimit=1000
  Licensing__Tenants__capwide__Model=ConcurrentSessions
  Licensing__Tenants__capwide__SeatLimit=5000
  Licensing__Tenants__mema__Model=ConcurrentSessions
  Licensing__Tenants__mema__SeatLimit=1000000
  Licensing__Tenants__memb__Model=ConcurrentSessions
  Licensing__Tenants__memb__SeatLimit=1000000
)

PLAIN_PORT=$(free_port)
GWR_PORT=$(free_port)
GWE_PORT=$(free_port)
GWE_STORE_PORT=$(free_port)
URL_OF[backend]=$BACKEND
URL_OF[plain]=http://127.0.0.1:$PLAIN_PORT
URL_OF[gw-redis]=http://127.0.0.1:$GWR_PORT
URL_OF[gw-embedded]=http://127.0.0.1:$GWE_PORT

start_plain() {
  (cd "$ART/plainyarp" && exec env "${PROXY_ENV[@]}" ASPNETCORE_URLS="${URL_OF[plain]}" dotnet PlainYarp.dll) \
    > "$WORK/plain.log" 2>&1 &
  PID_OF[plain]=$!; PIDS+=($!)
  wait_http "${URL_OF[plain]}/" 60 || die "plain YARP does not forward"
}

start_gateway() { # gw-redis | gw-embedded
  local name=$1 store_env
  if [[ $name == gw-redis ]]; then
    store_env=(ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT,abortConnect=false")
  else
    rm -rf "$WORK/embedded-store"
    store_env=(ConnectionStrings__Redis= Licensing__Embedded__DataPath="$WORK/embedded-store" Licensing__Embedded__Port="$GWE_STORE_PORT")
  fi
  (cd "$ART/gateway" && exec env "${GATEWAY_ENV[@]}" "${store_env[@]}" ASPNETCORE_URLS="${URL_OF[$name]}" dotnet Gateway.dll) \
    >> "$WORK/$name.log" 2>&1 &
  PID_OF[$name]=$!; PIDS+=($!)
  wait_http "${URL_OF[$name]}/_licensing/readyz" 90 || die "$name not ready"
  # The first request admits the steady session; every later one is served from the local cache.
  wait_http "${URL_OF[$name]}/" 10 "${STEADY_HEADERS[@]}" || die "$name does not forward an admitted session"
}

restart_gateway() {
  local name=$1
  stop_pid "${PID_OF[$name]}"
  start_gateway "$name"
}

log "starting plain YARP, gateway+Redis, gateway+embedded"
start_plain
start_gateway gw-redis
start_gateway gw-embedded
live_sessions() { # GATEWAY TENANT: the tenant's live sessions in the store, through the management API
  curl -s -H "Authorization: Bearer $OPS_TOKEN" "${URL_OF[$1]}/_licensing/v1/tenants/$2" |
    grep -o '"activeSessions":[0-9]*' | cut -d: -f2
}

# Refusals before measuring: no token is 401, a forged token is 401.
for gw in gw-redis gw-embedded; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${URL_OF[$gw]}/")
  [[ $code == 401 ]] || die "$gw answered $code without a token (expected 401)"
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 1. admitted-session throughput
TARGETS=(backend plain gw-redis gw-embedded)
log "warm-up: ${WARMUP_SECONDS}s per target"
for t in "${TARGETS[@]}"; do run_wrk warmup "$t" 0 "$WARMUP_SECONDS" "${URL_OF[$t]}/" "${STEADY_HEADERS[@]}"; done
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#TARGETS[@]}; i++)); do
    t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]} # rotate the order each round
    run_wrk steady "$t" "$r" "$ROUND_SECONDS" "${URL_OF[$t]}/" "${STEADY_HEADERS[@]}"
  done
done

# ---------------------------------------------------------------- 2. admissions (a new session per request)
ADMIT_TARGETS=(gw-redis gw-embedded)
for t in "${ADMIT_TARGETS[@]}"; do
  run_wrk admit-warmup "$t" 0 3 "${URL_OF[$t]}/" -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "w-$t-"
done
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#ADMIT_TARGETS[@]}; i++)); do
    t=${ADMIT_TARGETS[$(((i + r - 1) % ${#ADMIT_TARGETS[@]}))]}
    run_wrk admit "$t" "$r" "$ROUND_SECONDS" "${URL_OF[$t]}/" -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "r$r-$t-"
  done
done

# ---------------------------------------------------------------- 2b. allocated bytes per request
# Unlike req/s, the bytes a process allocates per request hardly depend on what else runs on the
# machine, so this pass gives a number that a busy machine does not blur. It needs dotnet-counters
# (a dotnet tool from NuGet); without it the column says "—".
ALLOC=$WORK/alloc.tsv
: > "$ALLOC"
COUNTERS=$(command -v dotnet-counters || true)
[[ ${ALLOC_PASS:-1} == 1 ]] || COUNTERS=""
if [[ -z $COUNTERS && ${ALLOC_PASS:-1} == 1 ]]; then
  COUNTERS=$ROOT/artifacts/bench-tools/dotnet-counters
  [[ -x $COUNTERS ]] || dotnet tool install --tool-path "$ROOT/artifacts/bench-tools" dotnet-counters > "$WORK/tool-install.log" 2>&1 || COUNTERS=""
  [[ -x ${COUNTERS:-/nonexistent} ]] || { COUNTERS=""; log "dotnet-counters not available: no allocation column"; }
fi
alloc_pass() { # PHASE TARGET URL [wrk args...]: appends "phase target bytes_per_request" to ALLOC
  local phase=$1 target=$2 url=$3; shift 3
  local pid=${PID_OF[$target]} csv=$WORK/counters-$phase-$target.csv secs=${ALLOC_SECONDS:-5} out req bytes cp
  "$COUNTERS" collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$csv" \
    --duration "$(printf '00:00:%02d' $((secs + 4)))" > "$WORK/counters.log" 2>&1 &
  cp=$!
  sleep 2
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${secs}s" "$url" "$@" 2>&1) || die "wrk failed: $out"
  wait "$cp" || true
  req=$(awk '/requests in/ {print $1}' <<< "$out")
  bytes=$(awk -F, -v n="$req" '$3 ~ /total_allocated/ {a += $5} END {if (n > 0 && a > 0) printf "%.0f", a / n}' "$csv" 2>/dev/null)
  printf '%s\t%s\t%s\n' "$phase" "$target" "${bytes:-}" >> "$ALLOC"
  log "allocations $phase $target: ${bytes:-?} bytes/request"
}
if [[ -n $COUNTERS ]]; then
  for t in plain gw-redis gw-embedded; do alloc_pass steady "$t" "${URL_OF[$t]}/" "${STEADY_HEADERS[@]}"; done
  for t in "${ADMIT_TARGETS[@]}"; do alloc_pass admit "$t" "${URL_OF[$t]}/" -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "alloc-$t-"; done
fi
alloc_of() { awk -F'\t' -v p="$1" -v t="$2" '$1 == p && $2 == t && $3 != "" {v = $3} END {print (v == "" ? "—" : v)}' "$ALLOC"; }

# ---------------------------------------------------------------- 3. exact at the cap
# Exactly N attempts, each a distinct (user, device), 64 at a time: the store must hold min(N, cap).
CAP_ROWS=()
cap_check() { # GATEWAY TENANT CAP ATTEMPTS TOKENS
  local gw=$1 tenant=$2 cap=$3 attempts=$4 tokens=$5 out ok2xx n429 other others hlen expected verdict
  out=$(dotnet "$ART/tokenmint/TokenMint.dll" admit --url "${URL_OF[$gw]}/" --tokens "$tokens" \
    --attempts "$attempts" --concurrency 64 --device-prefix "cap-$gw-")
  ok2xx=$(awk '$1 == 200 {print $2}' <<< "$out"); ok2xx=${ok2xx:-0}
  n429=$(awk '$1 == 429 {print $2}' <<< "$out"); n429=${n429:-0}
  other=$(awk '$1 != 200 && $1 != 429 {s += $2} END {print s + 0}' <<< "$out")
  others=$(awk '$1 != 200 && $1 != 429 {printf "%s%s×%s", sep, $1, $2; sep = ", "}' <<< "$out")
  hlen=$(live_sessions "$gw" "$tenant")
  expected=$((attempts < cap ? attempts : cap))
  # The store must hold exactly min(attempts, cap). A request that timed out (503) may still have
  # been admitted by the store: then the store is exact but a client saw an error, said apart here.
  if [[ $hlen != "$expected" ]]; then verdict=WRONG
  elif [[ $ok2xx == "$expected" && $other == 0 ]]; then verdict=ok
  elif ((ok2xx + other >= expected && ok2xx <= expected)); then verdict="store exact; $other answered ${others}"
  else verdict=WRONG
  fi
  CAP_ROWS+=("| $gw | $tenant | $cap | $attempts | $ok2xx | $n429 | ${others:-0} | $hlen | $expected | $verdict |")
  log "cap $gw $tenant: cap $cap, attempts $attempts, 200=$ok2xx 429=$n429 other=$other, HLEN=$hlen (expected $expected) $verdict"
}
for gw in gw-redis gw-embedded; do
  cap_check "$gw" cap 1000 3000 "$WORK/cap.tokens"
  cap_check "$gw" capwide 5000 3000 "$WORK/capwide.tokens"
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 4. memory at SESSIONS live sessions
# Fresh gateways and an empty Redis, so only the sessions made here are counted. Tenant mema:
# SESSIONS users with one session each; tenant memb: SESSIONS/10 users with 10 sessions each.
# bytes = a*sessions + b*users per tenant, so the two tenants give the per-session and per-user cost.
log "memory: fresh gateways, $SESSIONS sessions per tenant"
stop_pid "${PID_OF[gw-redis]}"
"${REDIS[@]}" FLUSHALL > /dev/null
start_gateway gw-redis
restart_gateway gw-embedded
sleep 2
redis_used() { "${REDIS[@]}" INFO memory | awk -F: '/^used_memory:/ {gsub(/\r/, "", $2); print $2}'; }
key_bytes() { # TENANT -> "suffix=bytes ..." for every key of the tenant, and the sum of session/user keys
  local tenant=$1 s b sum=0 line=""
  for s in plan reserved users active sessions recency svc usess audit usage seen sessionlog unused; do
    b=$("${REDIS[@]}" MEMORY USAGE "lic:{$tenant}:$s" SAMPLES 0); b=${b:-0}
    line+="$s=$b "
    case $s in users|sessions|recency|svc|usess|seen|unused) sum=$((sum + b)) ;; esac
  done
  echo "$sum $line"
}
admit_n() { # GATEWAY TOKENS PREFIX
  dotnet "$ART/tokenmint/TokenMint.dll" admit --url "${URL_OF[$1]}/" --tokens "$2" \
    --attempts "$SESSIONS" --concurrency 32 --device-prefix "$3"
}

GWR_PID=${PID_OF[gw-redis]}
GWE_PID=${PID_OF[gw-embedded]}
GWR_RSS0=$(rss_kb "$GWR_PID"); GWE_RSS0=$(rss_kb "$GWE_PID")
USED0=$(redis_used)
T0=$SECONDS
MEMA_OUT=$(admit_n gw-redis "$WORK/mema.tokens" ma-)
MEMA_SECS=$((SECONDS - T0))
sleep 2
GWR_RSS1=$(rss_kb "$GWR_PID"); GWR_HWM1=$(hwm_kb "$GWR_PID")
USED1=$(redis_used)
MEMA_HLEN=$("${REDIS[@]}" HLEN 'lic:{mema}:sessions')
read -r MEMA_SUM MEMA_KEYS <<< "$(key_bytes mema)"
MEMB_OUT=$(admit_n gw-redis "$WORK/memb.tokens" mb-)
sleep 1
USED2=$(redis_used)
MEMB_HLEN=$("${REDIS[@]}" HLEN 'lic:{memb}:sessions')
read -r MEMB_SUM MEMB_KEYS <<< "$(key_bytes memb)"
log "mema: $MEMA_HLEN sessions in ${MEMA_SECS}s ($(tr '\n' ' ' <<< "$MEMA_OUT")), keys $MEMA_KEYS"
log "memb: $MEMB_HLEN sessions ($(tr '\n' ' ' <<< "$MEMB_OUT")), keys $MEMB_KEYS"
MEM_WARN=""
if [[ $MEMA_HLEN != "$SESSIONS" || $MEMB_HLEN != "$SESSIONS" ]]; then
  MEM_WARN="Expected $SESSIONS live sessions per memory tenant, found $MEMA_HLEN (mema) and $MEMB_HLEN (memb): the per-session figures below divide by $SESSIONS."
  log "WARNING: $MEM_WARN"
fi

EMB_OUT=$(admit_n gw-embedded "$WORK/mema.tokens" ea-)
sleep 2
# The embedded store runs in the gateway's process: if it fails under load, so does the gateway.
# That is a result to report, not a reason to lose the rest of the run.
EMB_OK=$(awk '$1 == 200 {print $2}' <<< "$EMB_OUT"); EMB_OK=${EMB_OK:-0}
if kill -0 "$GWE_PID" 2>/dev/null; then
  GWE_RSS1=$(rss_kb "$GWE_PID"); GWE_HWM1=$(hwm_kb "$GWE_PID")
  EMB_HLEN=$(live_sessions gw-embedded mema)
  EMB_CRASH=""
else
  GWE_RSS1=0; GWE_HWM1=0; EMB_HLEN="?"
  EMB_CRASH=$(crash_summary "$WORK/gw-embedded.log")
  EMB_CRASH="the gateway process died after $EMB_OK admitted sessions: $EMB_CRASH"
  cp "$WORK/gw-embedded.log" "$ART/gw-embedded-crash.log" 2>/dev/null || true
  log "gateway + embedded store: $EMB_CRASH (log copied to artifacts/bench/gw-embedded-crash.log)"
fi
log "embedded: $EMB_HLEN sessions ($(tr '\n' ' ' <<< "$EMB_OUT"))"

# ---------------------------------------------------------------- report
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { # PHASE TARGET COLUMN -> values, one per round
  awk -F'\t' -v p="$1" -v t="$2" -v c="$3" '$1 == p && $2 == t {print $c}' "$RESULTS"
}
ratio_per_round() { # PHASE TARGET -> target/plain req/s, per round
  awk -F'\t' -v p="$1" -v t="$2" '$1 == p && $2 == t {x[$3] = $4} $1 == p && $2 == "plain" {y[$3] = $4}
    END {for (r in x) if (y[r] > 0) printf "%.3f\n", x[r] / y[r]}' "$RESULTS"
}
p99_added_per_round() {
  awk -F'\t' -v p="$1" -v t="$2" '$1 == p && $2 == t {x[$3] = $6} $1 == p && $2 == "plain" {y[$3] = $6}
    END {for (r in x) printf "%.3f\n", x[r] - y[r]}' "$RESULTS"
}
sum_col() { awk -F'\t' -v p="$1" -v t="$2" -v c="$3" '$1 == p && $2 == t {s += $c} END {print s + 0}' "$RESULTS"; }
minmax() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s–%s", lo, hi}'; }

declare -A LABEL=(
  [backend]="nginx direct (backend)"
  [plain]="plain YARP"
  [gw-redis]="gateway + Redis, admitted session"
  [gw-embedded]="gateway + embedded store, admitted session"
)
TABLE=$WORK/table.md
{
  echo "| target | req/s (median) | p50 ms | p99 ms | ratio to plain YARP (median, range) | added p99 vs plain, ms | proxy CPU µs/request | allocated bytes/request | non-2xx | socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for t in "${TARGETS[@]}"; do
    rps=$(col steady "$t" 4 | median); p50=$(col steady "$t" 5 | median); p99=$(col steady "$t" 6 | median)
    ratio=$(ratio_per_round steady "$t" | median); range=$(ratio_per_round steady "$t" | minmax)
    added=$( [[ $t == plain || $t == backend ]] && echo "—" || p99_added_per_round steady "$t" | median)
    cpu=$( [[ $t == backend ]] && echo "—" || col steady "$t" 10 | median)
    alloc=$( [[ $t == backend ]] && echo "—" || alloc_of steady "$t")
    printf '| %s | %.0f | %.3f | %.3f | %.3f (%s) | %s | %s | %s | %s | %s |\n' "${LABEL[$t]}" "$rps" "$p50" "$p99" "$ratio" "$range" "$added" \
      "$cpu" "$alloc" "$(sum_col steady "$t" 7)" "$(sum_col steady "$t" 8)"
  done
  for t in "${ADMIT_TARGETS[@]}"; do
    rps=$(col admit "$t" 4 | median); p50=$(col admit "$t" 5 | median); p99=$(col admit "$t" 6 | median)
    printf '| admissions, %s (new session per request) | %.0f | %.3f | %.3f | — | — | %s | %s | %s | %s |\n' \
      "${t#gw-}" "$rps" "$p50" "$p99" "$(col admit "$t" 10 | median)" "$(alloc_of admit "$t")" "$(sum_col admit "$t" 7)" "$(sum_col admit "$t" 8)"
  done
} > "$TABLE"

ROUNDS_TABLE=$WORK/rounds.md
{
  echo "| phase | target | round | req/s | p50 ms | p99 ms | non-2xx | socket errors | requests | proxy CPU µs/request |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '$1 == "steady" || $1 == "admit" {printf "| %s | %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
} > "$ROUNDS_TABLE"

NU=$((SESSIONS / 10))
MEM=$WORK/memory.md
awk -v S="$SESSIONS" -v NU="$NU" -v a_sum="$MEMA_SUM" -v b_sum="$MEMB_SUM" -v u0="$USED0" -v u1="$USED1" -v u2="$USED2" \
    -v r0="$GWR_RSS0" -v r1="$GWR_RSS1" -v h1="$GWR_HWM1" -v e0="$GWE_RSS0" -v e1="$GWE_RSS1" -v eh1="$GWE_HWM1" -v crash="$EMB_CRASH" 'BEGIN {
  per_user = (a_sum - b_sum) / (S - NU)        # same sessions, S - NU more users
  per_session = (b_sum - per_user * NU) / S    # sessions alone, user records taken out
  print "| measure | value |"
  print "|---|---:|"
  printf "| Redis, session+user keys of tenant mema (%d users × 1 session) ÷ sessions | %.0f bytes |\n", S, a_sum / S
  printf "| Redis, session+user keys of tenant memb (%d users × 10 sessions) ÷ sessions | %.0f bytes |\n", NU, b_sum / S
  printf "| Redis, per session (without its user records), solved from both tenants | %.0f bytes |\n", per_session
  printf "| Redis, per user (user list, last seen, never-active list, per-user session list), solved | %.0f bytes |\n", per_user
  printf "| Redis, INFO used_memory delta ÷ sessions, tenant mema (includes its capped audit list) | %.0f bytes |\n", (u1 - u0) / S
  printf "| Redis, INFO used_memory delta ÷ sessions, tenant memb (includes its capped audit list) | %.0f bytes |\n", (u2 - u1) / S
  printf "| gateway + Redis, VmRSS fresh → with %d live sessions (peak VmHWM) | %.0f → %.0f MB (%.0f MB) |\n", S, r0 / 1024, r1 / 1024, h1 / 1024
  if (crash == "") printf "| gateway + embedded store (store in-process), VmRSS fresh → with %d live sessions (peak VmHWM) | %.0f → %.0f MB (%.0f MB) |\n", S, e0 / 1024, e1 / 1024, eh1 / 1024
  else printf "| gateway + embedded store (store in-process), with %d sessions asked for | **%s** |\n", S, crash
}' > "$MEM"

CAPS=$WORK/caps.md
{
  echo "| gateway | tenant | cap | attempts | 200 | 429 | other statuses | sessions in store (HLEN) | expected min(attempts, cap) | |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${CAP_ROWS[@]}"
} > "$CAPS"

# Issue 4's targets, judged from this run.
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0); print ok ? "met" : "**not met**"}'; }
GOALS=$WORK/targets.md
{
  echo "| target (issue 4) | goal | this run | |"
  echo "|---|---|---:|---|"
  for t in gw-redis gw-embedded; do
    r=$(ratio_per_round steady "$t" | median | xargs printf '%.3f'); a=$(p99_added_per_round steady "$t" | median | xargs printf '%.3f')
    n=$(sum_col steady "$t" 7)
    echo "| ${LABEL[$t]}: throughput ÷ plain YARP (median of rounds) | ≥ 0.90 (stretch 0.95) | $r | $(verdict "$r" ">=" 0.90) |"
    echo "| ${LABEL[$t]}: added p99 at $CONNECTIONS connections | ≤ 1 ms | $a ms | $(verdict "$a" "<=" 1) |"
    echo "| ${LABEL[$t]}: non-2xx responses | 0 | $n | $(verdict "$n" "<=" 0) |"
  done
  r=$(col admit gw-redis 4 | median)
  echo "| admissions/s against local Redis | ≥ 5,000 | $(printf '%.0f' "$r") | $(verdict "$r" ">=" 5000) |"
  wrong=$(printf '%s\n' "${CAP_ROWS[@]}" | grep -c '| WRONG |' || true)
  echo "| exact at the cap (sessions in store = min(attempts, cap)) | all checks | $(( ${#CAP_ROWS[@]} - wrong )) of ${#CAP_ROWS[@]} | $( ((wrong == 0)) && echo met || echo '**not met**') |"
  b=$(awk -v x="$MEMA_SUM" -v s="$SESSIONS" 'BEGIN {printf "%.0f", x / s}')
  echo "| Redis bytes per session, each session with a user of its own (tenant mema's session+user keys) | ≤ 400 | $b | $(verdict "$b" "<=" 400) |"
  m=$(awk -v k="$GWR_RSS1" 'BEGIN {printf "%.0f", k / 1024}')
  echo "| gateway (+ Redis) working set with $SESSIONS live sessions | ≤ 300 MB | $m MB | $(verdict "$m" "<=" 300) |"
} > "$GOALS"

echo
cat "$TABLE"
echo
cat "$GOALS"
echo
cat "$MEM"
echo
cat "$CAPS"

# ---------------------------------------------------------------- docs/benchmarks.md
if [[ $OUT != - ]]; then
  yarp_version=$(grep -o 'Include="Yarp.ReverseProxy" Version="[^"]*"' "$ROOT/Directory.Packages.props" | sed 's/.*Version="//; s/"//')
  redis_version=$(redis-server --version | sed 's/ sha=.*//')
  nginx_version=$(nginx -v 2>&1 | sed 's/nginx version: //')
  wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain -- src bench 2>/dev/null || true)
  mkdir -p "$(dirname "$OUT")"
  # The last section is written by hand from bench/background-work.sh: keep it.
  kept=$( [[ -f $OUT ]] && awk '/^## Background work with 10,000 tenants/ {on = 1} on' "$OUT" || true)
  {
    echo "# Benchmarks"
    echo
    echo "Written by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`${dirty:+ (with uncommitted changes)}."
    echo
    if [[ -n $BENCH_NOTE ]]; then echo "> **$BENCH_NOTE**"; echo; fi
    echo "## Proxy throughput and admissions"
    echo
    echo "wrk, 1 thread, $CONNECTIONS connections, $ROUNDS rounds of ${ROUND_SECONDS} s after a ${WARMUP_SECONDS} s warm-up per target;"
    echo "the targets take turns within each round (the order rotates every round), and each ratio is"
    echo "taken between rounds measured back to back, then the median over the rounds is shown. All"
    echo "processes (wrk, nginx, Redis, the proxies) share the machine's cores, so compare ratios, not"
    echo "absolute numbers. Every request of the \"admitted session\" rows carries the same token and"
    echo "device (one session, admitted during warm-up); every request of the \"admissions\" rows asks for"
    echo "a new session (distinct user/device pairs from 10,000 users, ConcurrentSessions, seat limit 1,000,000)."
    echo
    cat "$TABLE"
    echo
    echo "Proxy CPU µs/request is the proxy process's user+system time during a round ÷ the requests"
    echo "wrk completed (/proc/PID/stat); spinning thread-pool threads on a busy machine inflate it."
    echo "Allocated bytes/request comes from a separate ${ALLOC_SECONDS:-5} s wrk run per target after the rounds, with"
    echo "\`dotnet-counters collect\` (System.Runtime dotnet.gc.heap.total_allocated) ÷ the requests wrk completed;"
    echo "it barely depends on machine load."
    echo
    echo "Load average (1/5/15 min) at the start of the measurements: $LOAD_START; at the end: $LOAD_END."
    echo
    echo "<details><summary>Every round</summary>"
    echo
    cat "$ROUNDS_TABLE"
    echo
    echo "</details>"
    echo
    echo "## Against the targets of issue 4"
    echo
    echo "Judged from this run alone. The verdicts mean something only on a quiet machine (load"
    echo "average near 0 before the run); on a busy one the rounds scatter too widely (see every round above)."
    echo
    cat "$GOALS"
    echo
    echo "## Exact at the cap"
    echo
    echo "Exactly \"attempts\" requests, each a distinct user and device, 64 in flight at a time"
    echo "(\`TokenMint admit\`); then \`HLEN lic:{tenant}:sessions\` in the gateway's store."
    echo
    cat "$CAPS"
    echo
    echo "## Memory with $SESSIONS live sessions"
    echo
    echo "Fresh gateways and an empty Redis; $SESSIONS sessions admitted through the gateway"
    echo "(\`TokenMint admit\`, 32 in flight). Tenant \`mema\`: $SESSIONS users with one session each"
    echo "(${MEMA_SECS} s through the gateway); tenant \`memb\`: $NU users with 10 sessions each."
    echo "Key sizes are \`MEMORY USAGE key SAMPLES 0\`; the per-session and per-user costs solve"
    echo "bytes = a·sessions + b·users over the two tenants' session and user keys (\`sessions\`,"
    echo "\`recency\`, \`svc\`, \`usess\`, \`users\`, \`seen\`, \`unused\`). Working set is VmRSS from /proc/PID/status."
    echo
    cat "$MEM"
    echo
    echo "Responses while admitting (status count): mema through gateway + Redis \`$(tr '\n' ' ' <<< "$MEMA_OUT")\`;"
    echo "memb \`$(tr '\n' ' ' <<< "$MEMB_OUT")\`; mema through gateway + embedded store \`$(tr '\n' ' ' <<< "$EMB_OUT")\`"
    echo "(status 0 = no answer; 503 = store-unavailable, a store call that took longer than the gateway's command timeout)."
    echo
    if [[ -n $MEM_WARN ]]; then echo "**$MEM_WARN**"; echo; fi
    echo "Key sizes in bytes, mema: \`$MEMA_KEYS\`"
    echo
    echo "Key sizes in bytes, memb: \`$MEMB_KEYS\`"
    echo
    echo "## Machine and versions"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) |"
    echo "| RAM | $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
    echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| .NET SDK | $(dotnet --version) |"
    echo "| YARP | $yarp_version |"
    echo "| Redis | $redis_version |"
    echo "| nginx | $nginx_version (1 worker, \`bench/nginx.conf\`) |"
    echo "| wrk | $wrk_version |"
    echo
    echo "## How to rerun"
    echo
    echo '```bash'
    echo "apt-get install -y wrk nginx redis-server   # plus the .NET 10 SDK"
    echo "bench/run.sh                                 # ROUNDS, ROUND_SECONDS, WARMUP_SECONDS, CONNECTIONS, SESSIONS, BENCH_NOTE, OUT"
    echo '```'
    echo
    echo "What it runs (ports are free loopback ports picked per run; \$TOKEN is an HS256 token that"
    echo "\`bench/TokenMint\` mints with a key generated per run):"
    echo
    echo '```bash'
    echo "dotnet publish src/Gateway -c Release -o artifacts/bench/gateway"
    echo "dotnet publish bench/PlainYarp -c Release -o artifacts/bench/plainyarp"
    echo "dotnet publish bench/TokenMint -c Release -o artifacts/bench/tokenmint"
    echo "nginx -p \$WORK -c \$WORK/nginx.conf -e \$WORK/nginx-error.log      # bench/nginx.conf"
    echo "redis-server --port \$REDIS_PORT --bind 127.0.0.1 --save \"\" --appendonly no"
    echo "# gateway (twice: ConnectionStrings__Redis=127.0.0.1:\$REDIS_PORT, and empty = embedded store):"
    echo "cd artifacts/bench/gateway && env \\"
    printf '  "%s" \\\n' "${GATEWAY_ENV[@]}" | sed -e "s#$KEY#\$KEY#" -e "s#$NGINX_PORT#\$NGINX_PORT#"
    echo "  ASPNETCORE_URLS=http://127.0.0.1:\$PORT dotnet Gateway.dll"
    echo "# plain YARP: the same ReverseProxy__* variables, ASPNETCORE_URLS, dotnet PlainYarp.dll"
    echo "# admitted session (each target, alternating):"
    echo "wrk -t1 -c$CONNECTIONS -d${ROUND_SECONDS}s --latency -H \"Authorization: Bearer \$TOKEN\" -H \"X-Device-Id: bench-steady-device\" http://127.0.0.1:\$PORT/"
    echo "# admissions:"
    echo "wrk -t1 -c$CONNECTIONS -d${ROUND_SECONDS}s --latency -s bench/admit.lua http://127.0.0.1:\$PORT/ -- admit.tokens PREFIX"
    echo "# exact at the cap, and the memory tenants:"
    echo "dotnet artifacts/bench/tokenmint/TokenMint.dll admit --url http://127.0.0.1:\$PORT/ --tokens cap.tokens --attempts 3000 --concurrency 64"
    echo "curl -s -H \"Authorization: Bearer \$OPS_TOKEN\" http://127.0.0.1:\$PORT/_licensing/v1/tenants/cap   # activeSessions; the embedded store takes no outside client"
    echo "redis-cli -p \$REDIS_PORT MEMORY USAGE 'lic:{mema}:sessions' SAMPLES 0; redis-cli -p \$REDIS_PORT INFO memory"
    echo '```'
    if [[ -n $kept ]]; then echo; printf '%s\n' "$kept"; fi
  } > "$OUT"
  log "wrote $OUT"
fi

OK=1
