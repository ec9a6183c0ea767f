# Small helpers every other piece of the harness uses. Sourced by bench/run.sh.

# Progress goes to stderr, so a phase's stdout stays free for values.
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Stops the run; the EXIT trap stops the processes and keeps the logs.
die() { log "FAILED: $*"; exit 1; }

# Fails early with the install hint, not halfway through a ten-minute run.
require_tools() {
  local tool
  for tool in dotnet wrk nginx redis-server redis-cli curl openssl awk; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk nginx redis-server curl)"
  done
}

# Every measured value is a named fact in one file, so the phases and the report stay apart.
fact() { printf '%s\t%s\n' "$1" "$2" >> "$FACTS"; log "  $1 = $2"; }

# The last value recorded under a name (or the default), for the report.
fact_of() { awk -F'\t' -v k="$1" '$1 == k {v = $2; seen = 1} END {if (seen) print v}' "$FACTS" | grep . || echo "${2:-?}"; }

# Median of numbers on stdin: rounds scatter on a shared machine, the median resists outliers.
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# "lowest–highest" of numbers on stdin, to show how far the rounds scatter.
minmax() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s–%s", lo, hi}'; }

# Integer or fixed-point arithmetic bash cannot do: calc '%.1f' 'a / b' a=1 b=3.
calc() {
  local format=$1 expression=$2; shift 2
  local vars=() kv
  for kv in "$@"; do vars+=(-v "$kv"); done
  awk "${vars[@]}" "BEGIN {printf \"$format\", $expression}"
}

# A loopback port nobody listens on, never handed out twice in one run.
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED_PORTS+="$p "; echo "$p"; return; fi
  done
}

# Waits for a 200 from URL (extra curl args after the timeout), so a phase starts on a ready process.
wait_http() {
  local url=$1 secs=${2:-60}; shift 2 || shift $#
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null) == 200 ]] && return 0
    sleep 0.3
  done
  return 1
}

# wrk prints latencies with units ("812.00us", "1.20ms", "1.01s"); the report uses milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}
