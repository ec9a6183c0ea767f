# Starting and stopping what the harness measures: nginx, redis-server, plain YARP, gateways.
# Every process gets a free loopback port and a log in $WORK; PID_OF/URL_OF name them.

declare -A PID_OF=() URL_OF=()
PIDS=()
NGINX_STARTED=0

# TERM first so a process can flush its logs; KILL after 10 s so a hung one cannot stall the run.
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Stops a named process between phases, so the next phase measures on a quieter machine.
stop_named() { [[ -n ${PID_OF[$1]:-} ]] && stop_pid "${PID_OF[$1]}"; unset "PID_OF[$1]"; }

# EXIT trap: stop everything we started (newest first); on failure keep the logs and show their tails.
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

# Release builds of the gateway and the two bench tools, unless SKIP_BUILD reuses an earlier run's.
build_artifacts() {
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building Release into $ART"
    rm -rf "$ART"
    dotnet publish "$ROOT/src/Gateway" -c Release -o "$ART/gateway" --nologo -v quiet > "$WORK/build-gateway.log" 2>&1 || die "gateway build (see $WORK/build-gateway.log)"
    dotnet publish "$ROOT/bench/PlainYarp" -c Release -o "$ART/plainyarp" --nologo -v quiet > "$WORK/build-plainyarp.log" 2>&1 || die "PlainYarp build"
    dotnet publish "$ROOT/bench/TokenMint" -c Release -o "$ART/tokenmint" --nologo -v quiet > "$WORK/build-tokenmint.log" 2>&1 || die "TokenMint build"
  fi
  [[ -f $ART/gateway/Gateway.dll && -f $ART/plainyarp/PlainYarp.dll && -f $ART/tokenmint/TokenMint.dll ]] || die "missing build output in $ART"
}

# The backend: nginx answering one small JSON body, with its own pid/log/temp paths in $WORK.
start_nginx() {
  local port; port=$(free_port)
  mkdir -p "$WORK/nginx-tmp"
  sed -e "s#@WORK@#$WORK#g" -e "s#@PORT@#$port#g" "$ROOT/bench/nginx.conf" > "$WORK/nginx.conf"
  nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" > "$WORK/nginx.log" 2>&1 || die "nginx did not start"
  NGINX_STARTED=1
  URL_OF[backend]=http://127.0.0.1:$port
  wait_http "${URL_OF[backend]}/" 10 || die "nginx does not answer"
  log "nginx on ${URL_OF[backend]}"
}

# A redis-server of our own (no persistence), so INFO memory counts only what this run wrote.
# Sets REDIS_PORT_OF[NAME]; redis_cli NAME ... talks to it.
declare -A REDIS_PORT_OF=()
start_redis() {
  local name=$1 port; port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/$name.log" --daemonize no > /dev/null 2>&1 &
  PID_OF[$name]=$!; PIDS+=($!)
  REDIS_PORT_OF[$name]=$port
  for _ in $(seq 1 50); do [[ $(redis_cli "$name" PING 2>/dev/null) == PONG ]] && break; sleep 0.2; done
  [[ $(redis_cli "$name" PING 2>/dev/null) == PONG ]] || die "redis-server $name does not answer"
  log "$name on 127.0.0.1:$port"
}
redis_cli() { local name=$1; shift; redis-cli -h 127.0.0.1 -p "${REDIS_PORT_OF[$name]}" "$@"; }

# Plain YARP: the baseline, the same ReverseProxy settings and runtime as the gateway, no licensing.
start_plain() {
  local port; port=$(free_port)
  URL_OF[plain]=http://127.0.0.1:$port
  (cd "$ART/plainyarp" && exec env "${PROXY_ENV[@]}" ASPNETCORE_URLS="${URL_OF[plain]}" dotnet PlainYarp.dll) \
    > "$WORK/plain.log" 2>&1 &
  PID_OF[plain]=$!; PIDS+=($!)
  wait_http "${URL_OF[plain]}/" 60 || die "plain YARP does not forward"
}

# A fresh gateway named NAME on STORE (a start_redis name, or "embedded" for a new embedded store
# in $WORK), with extra KEY=VALUE settings after it. Ready once the steady session is admitted.
start_gateway() {
  local name=$1 store=$2; shift 2
  local port store_env; port=$(free_port)
  if [[ $store == embedded ]]; then
    rm -rf "$WORK/store-$name"
    store_env=(ConnectionStrings__Redis= Licensing__Embedded__DataPath="$WORK/store-$name")
  else
    store_env=(ConnectionStrings__Redis="127.0.0.1:${REDIS_PORT_OF[$store]},abortConnect=false")
  fi
  URL_OF[$name]=http://127.0.0.1:$port
  (cd "$ART/gateway" && exec env "${GATEWAY_ENV[@]}" "${store_env[@]}" "$@" ASPNETCORE_URLS="${URL_OF[$name]}" dotnet Gateway.dll) \
    >> "$WORK/$name.log" 2>&1 &
  PID_OF[$name]=$!; PIDS+=($!)
  wait_http "${URL_OF[$name]}/_licensing/readyz" 120 || die "$name not ready"
  # The first request admits the steady session; every later one is served from the local cache.
  wait_http "${URL_OF[$name]}/" 10 "${STEADY_HEADERS[@]}" || die "$name does not forward an admitted session"
  log "$name on ${URL_OF[$name]} ($store store)"
}

# Is the process still there? A crash under load is a result to report, not a reason to stop.
alive() { [[ -n ${PID_OF[$1]:-} ]] && kill -0 "${PID_OF[$1]}" 2>/dev/null; }

# The reason a .NET process gave for dying: the lines after "Process terminated." or "Unhandled
# exception", else its first exception line.
crash_summary() {
  local text
  text=$(awk '/Process terminated|Unhandled exception/ {f = 1} f && NF && !/^[ \t]+at / {gsub(/^[ \t]+|\r/, ""); if (n < 4) {printf "%s%s", (n ? " / " : ""), $0; n++}}' "$1")
  [[ -n $text ]] || text=$(grep -m1 -E 'Exception|failed' "$1" | tr -d '\r' || true)
  tr -d '|' <<< "$text" | cut -c1-400
}
