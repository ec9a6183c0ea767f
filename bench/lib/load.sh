# Putting load on the targets: wrk rounds for throughput, TokenMint for exact numbers of sessions.

CLK_TCK=$(getconf CLK_TCK)

# User + system CPU time of a process, in clock ticks: the proxy's own cost, whatever else runs.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_wrk PHASE TARGET ROUND SECONDS URL [wrk args...]: one wrk run, one row in $RESULTS:
# phase target round req/s p50ms p99ms non2xx socket_errors requests cpu_us_per_request
# (CPU time of the target process during the run ÷ requests; "-" for the backend).
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
  [[ -n $pid && $requests -gt 0 ]] && cpu=$(calc '%.1f' 't * 1e6 / hz / n' t=$((c1 - c0)) hz="$CLK_TCK" n="$requests")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$target" "$round" "$rps" "$p50" "$p99" "$non2xx" "$errors" "$requests" "$cpu" >> "$RESULTS"
  log "$phase $target round $round: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, non-2xx $non2xx, socket errors $errors, CPU $cpu us/request"
}

# run_rounds PHASE "WRK ARGS FOR TARGET" TARGET...: ROUNDS rounds in which the targets take turns,
# the order rotating every round, so a shared machine's drifting speed hits every target alike.
# The wrk arguments are produced per target and round by the function named in $2.
run_rounds() {
  local phase=$1 args_of=$2; shift 2
  local targets=("$@") r i t args
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < ${#targets[@]}; i++)); do
      t=${targets[$(((i + r - 1) % ${#targets[@]}))]}
      mapfile -t args < <("$args_of" "$t" "$r")
      run_wrk "$phase" "$t" "$r" "$ROUND_SECONDS" "${URL_OF[$t]}/" "${args[@]}"
    done
  done
}

# wrk arguments of an admitted-session round: every target, plain YARP included, gets the very
# same token and device headers, so the only difference is what the proxy does with them.
steady_args() { printf '%s\n' "${STEADY_HEADERS[@]}"; }

# wrk arguments of an admissions round: a new (user, device) pair on every request.
admit_args() { printf '%s\n' -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "r$2-$1-"; }

# admit_sessions GATEWAY TOKENS ATTEMPTS DEVICE_PREFIX [CONCURRENCY]: exactly ATTEMPTS requests,
# each a new session; prints TokenMint's "status code count detail" lines.
admit_sessions() {
  dotnet "$ART/tokenmint/TokenMint.dll" admit --url "${URL_OF[$1]}/" --tokens "$2" \
    --attempts "$3" --concurrency "${5:-32}" --device-prefix "$4"
}

# Answers of admit_sessions with a given status (and code, when given): count them.
answers_with() { # LINES STATUS [CODE]
  awk -F'\t' -v s="$2" -v c="${3:-}" '$1 == s && (c == "" || $2 == c) {n += $3} END {print n + 0}' <<< "$1"
}
# Answers whose status is in none of the given ones, as "status code×count" for the report.
answers_other() { # LINES STATUS...
  local lines=$1; shift
  awk -F'\t' -v keep=" $* " 'index(keep, " " $1 " ") == 0 {printf "%s%s %s×%s", sep, $1, $2, $3; sep = ", "}' <<< "$lines"
}
# One line per answer kind, for the log and the report ("200: 500; 429 seats-exhausted: 2500").
answers_summary() { awk -F'\t' '{printf "%s%s%s: %s", sep, $1, ($2 == "-" ? "" : " " $2), $3; sep = "; "}' <<< "$1"; }

# mint TENANT USERS PREFIX FILE [extra TokenMint args...]: HS256 tokens with this run's key.
mint() {
  dotnet "$ART/tokenmint/TokenMint.dll" mint --key "$KEY" --issuer "$ISSUER" --audience "$AUDIENCE" \
    --tenant "$1" --users "$2" --user-prefix "$3" --out "$4" "${@:5}"
}

# Bytes a process allocates per request: unlike req/s, barely blurred by a busy machine. Needs
# dotnet-counters (from PATH, or installed once into artifacts/bench-tools); without it, no column.
find_dotnet_counters() {
  [[ ${ALLOC_PASS:-1} == 1 ]] || return 0
  COUNTERS=$(command -v dotnet-counters || true)
  if [[ -z $COUNTERS ]]; then
    COUNTERS=$ROOT/artifacts/bench-tools/dotnet-counters
    [[ -x $COUNTERS ]] || dotnet tool install --tool-path "$ROOT/artifacts/bench-tools" dotnet-counters > "$WORK/tool-install.log" 2>&1 || true
    [[ -x $COUNTERS ]] || { COUNTERS=""; log "dotnet-counters not available: no allocation column"; }
  fi
}

# alloc_pass PHASE TARGET [wrk args...]: records fact alloc.PHASE.TARGET (bytes per request).
alloc_pass() {
  local phase=$1 target=$2; shift 2
  local pid=${PID_OF[$target]} csv=$WORK/counters-$phase-$target.csv secs=${ALLOC_SECONDS:-5} out req bytes cp
  "$COUNTERS" collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$csv" \
    --duration "$(printf '00:00:%02d' $((secs + 4)))" > "$WORK/counters.log" 2>&1 &
  cp=$!
  sleep 2
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${secs}s" "${URL_OF[$target]}/" "$@" 2>&1) || die "wrk failed: $out"
  wait "$cp" || true
  req=$(awk '/requests in/ {print $1}' <<< "$out")
  bytes=$(awk -F, -v n="$req" '$3 ~ /total_allocated/ {a += $5} END {if (n > 0 && a > 0) printf "%.0f", a / n}' "$csv" 2>/dev/null || true)
  fact "alloc.$phase.$target" "${bytes:-—}"
}
