# Turning $RESULTS (wrk rounds) and $FACTS (everything else) into markdown: the verdict table
# first, then the tables it is judged from.

declare -A LABEL=(
  [backend]="nginx direct (backend)"
  [plain]="plain YARP"
  [gw-redis]="gateway + Redis"
  [gw-embedded]="gateway + embedded store"
)

# Values of one column of $RESULTS for a phase and target, one per round.
col() { awk -F'\t' -v p="$1" -v t="$2" -v c="$3" '$1 == p && $2 == t {print $c}' "$RESULTS"; }

# Per round, a target's column against plain YARP's in the same round ("/" ratio or "-" difference):
# rounds measured back to back are compared, never a round with another round's machine load.
per_round_vs_plain() { # PHASE TARGET COLUMN OP
  awk -F'\t' -v p="$1" -v t="$2" -v c="$3" -v op="$4" '$1 == p && $2 == t {x[$3] = $c} $1 == p && $2 == "plain" {y[$3] = $c}
    END {for (r in x) if (r in y) { if (op == "/") { if (y[r] > 0) printf "%.3f\n", x[r] / y[r] } else printf "%.3f\n", x[r] - y[r] }}' "$RESULTS"
}
sum_col() { awk -F'\t' -v p="$1" -v t="$2" -v c="$3" '$1 == p && $2 == t {s += $c} END {print s + 0}' "$RESULTS"; }

# The steady-state figures of a target the verdicts use, as facts (median over rounds).
summarize_rounds() {
  local t
  for t in gw-redis gw-embedded; do
    fact "steady.$t.ratio" "$(per_round_vs_plain steady "$t" 4 / | median | xargs printf '%.3f')"
    fact "steady.$t.ratio_range" "$(per_round_vs_plain steady "$t" 4 / | minmax)"
    fact "steady.$t.added_cpu" "$(per_round_vs_plain steady "$t" 10 - | median | xargs printf '%.1f')"
    fact "steady.$t.added_p99" "$(per_round_vs_plain steady "$t" 6 - | median | xargs printf '%.3f')"
    fact "admit.$t.cpu" "$(col admit "$t" 10 | median | xargs printf '%.1f')"
    fact "side.$t.ratio" "$(per_round_vs_plain "side-$t" "$t" 4 / | median | xargs printf '%.3f')"
    fact "side.$t.ratio_range" "$(per_round_vs_plain "side-$t" "$t" 4 / | minmax)"
    fact "side.$t.added_cpu" "$(per_round_vs_plain "side-$t" "$t" 10 - | median | xargs printf '%.1f')"
    fact "side.$t.added_cpu_range" "$(per_round_vs_plain "side-$t" "$t" 10 - | minmax)"
  done
}

# met / **not met** for a number against a goal; "not measured" when the phase gave no number.
verdict() { # VALUE OP GOAL
  [[ $1 =~ ^-?[0-9.]+$ ]] || { echo "**not measured**"; return; }
  awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {ok = (op == ">=") ? (v + 0 >= g + 0) : (v + 0 <= g + 0); print ok ? "met" : "**not met**"}'
}
yes_met() { [[ $1 == yes ]] && echo met || echo "**not met**"; }
mb() { [[ $1 =~ ^[0-9]+$ ]] && echo "$(kb_to_mb "$1") MB" || echo "$1"; }

# The one table that says which targets this run met.
verdict_table() {
  local t r a c
  echo "| target | goal | this run | |"
  echo "|---|---|---:|---|"
  for t in gw-redis gw-embedded; do
    r=$(fact_of "steady.$t.ratio"); a=$(fact_of "steady.$t.added_cpu"); c=$(fact_of "steady.$t.added_p99")
    echo "| ${LABEL[$t]}, admitted session: throughput ÷ plain YARP (median of $ROUNDS rounds, range $(fact_of "steady.$t.ratio_range")) | ≥ 0.95 | $r | $(verdict "$r" ">=" 0.95) |"
    echo "| ${LABEL[$t]}, admitted session: added proxy CPU per request (µs, gateway − plain YARP, median of rounds) | ≤ 5 µs | $a µs | $(verdict "$a" "<=" 5) |"
    echo "| ${LABEL[$t]}, admitted session: added p99 at $CONNECTIONS connections (median of rounds) | ≤ 0.5 ms | $c ms | $(verdict "$c" "<=" 0.5) |"
    r=$(fact_of "side.$t.ratio"); a=$(fact_of "side.$t.added_cpu")
    echo "| ${LABEL[$t]}, admitted session, side by side with plain YARP: throughput ÷ plain YARP (median of $ROUNDS rounds, range $(fact_of "side.$t.ratio_range")) | ≥ 0.95 | $r | $(verdict "$r" ">=" 0.95) |"
    echo "| ${LABEL[$t]}, admitted session, side by side with plain YARP: added proxy CPU per request (median of rounds, range $(fact_of "side.$t.added_cpu_range")) | ≤ 5 µs | $a µs | $(verdict "$a" "<=" 5) |"
  done
  a=$(fact_of admit.gw-redis.cpu); echo "| admissions on Redis: proxy CPU per admission | ≤ 100 µs | $a µs | $(verdict "$a" "<=" 100) |"
  a=$(fact_of admit.gw-embedded.cpu); echo "| admissions on the embedded store: proxy CPU per admission | ≤ 150 µs | $a µs | $(verdict "$a" "<=" 150) |"
  for t in gw-redis gw-embedded; do
    echo "| ${LABEL[$t]}: still exact at the cap ($CAP_ATTEMPTS new sessions, 64 in flight, seat limit $CAP_SEATS) | $CAP_SEATS live, $CAP_SEATS 2xx, $((CAP_ATTEMPTS - CAP_SEATS)) × 429 \`seats-exhausted\` | $(fact_of "cap.$t.live") live, $(fact_of "cap.$t.ok") 2xx, $(fact_of "cap.$t.seats_exhausted") × 429 \`seats-exhausted\` | $(yes_met "$(fact_of "cap.$t.exact")") |"
  done
  a=$(fact_of mem.session.bytes_per)
  echo "| Redis bytes per live session including its user's records ($MEMORY_SESSIONS users × 1 session, one ConcurrentSessions tenant; live: $(fact_of mem.session.live)) | ≤ 300 B | $a B | $(verdict "$a" "<=" 300) |"
  a=$(fact_of mem.user.bytes_per)
  echo "| Redis bytes per registered user without a session ($MEMORY_SESSIONS users activated through the bulk endpoint, one RegisteredUsers tenant; active: $(fact_of mem.user.active)) | ≤ 100 B | $a B | $(verdict "$a" "<=" 100) |"
  echo "| Redis bytes per live session, $SMALL_TENANTS tenants × $SMALL_TENANT_SESSIONS sessions (each of its own user; live: $(fact_of mem.small.live)) | informative | $(fact_of mem.small.bytes_per) B | — |"
  echo "| Redis bytes per registered user who was never active ($MEMORY_SESSIONS users registered as inactive) | informative | $(fact_of mem.idle_user.bytes_per) B | — |"
  a=$(fact_of mem.embedded.rss_loaded)
  if [[ $a == "?" ]]; then
    echo "| embedded store: gateway working set with $MEMORY_SESSIONS live sessions | ≤ 300 MB | process died: $(fact_of mem.embedded.crash) | **not met** |"
  else
    echo "| embedded store: gateway working set (VmRSS) idle → right after admitting $MEMORY_SESSIONS sessions (live: $(fact_of mem.embedded.live)) | ≤ 300 MB | $(mb "$(fact_of mem.embedded.rss_idle)") → $(mb "$a") | $(verdict "$(kb_to_mb "$a")" "<=" 300) |"
    a=$(fact_of mem.embedded.rss_used)
    echo "| embedded store: gateway working set (VmRSS) once those $MEMORY_SESSIONS sessions are used again (live: $(fact_of mem.embedded.live_used)) | ≤ 300 MB | $(mb "$a") | $(verdict "$(kb_to_mb "$a")" "<=" 300) |"
  fi
  echo "| embedded store, default settings: $EMBEDDED_CEILING_SESSIONS new sessions asked for | the process does not crash | alive: $(fact_of ceiling.alive); admitted $(fact_of ceiling.ok), 503 $(fact_of ceiling.unavailable); VmRSS at the end $(mb "$(fact_of ceiling.rss)") | $(yes_met "$(fact_of ceiling.alive)") |"
}

# Throughput, latency and CPU of every target, medians over the rounds.
throughput_table() {
  local t rps p50 p99 ratio cpu add_p99 add_cpu alloc
  echo "| target | req/s (median) | p50 ms | p99 ms | ratio to plain YARP (median, range) | added p99 vs plain, ms | proxy CPU µs/request | added CPU vs plain, µs | allocated bytes/request | non-2xx | socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for t in "${STEADY_TARGETS[@]}"; do
    rps=$(col steady "$t" 4 | median); p50=$(col steady "$t" 5 | median); p99=$(col steady "$t" 6 | median)
    ratio="$(per_round_vs_plain steady "$t" 4 / | median | xargs printf '%.3f') ($(per_round_vs_plain steady "$t" 4 / | minmax))"
    cpu=—; alloc=—; add_p99=—; add_cpu=—
    if [[ $t != backend ]]; then cpu=$(col steady "$t" 10 | median); alloc=$(fact_of "alloc.steady.$t" —); fi
    if [[ $t == gw-* ]]; then add_p99=$(fact_of "steady.$t.added_p99"); add_cpu=$(fact_of "steady.$t.added_cpu"); fi
    printf '| %s, admitted session | %.0f | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$t]}" "$rps" "$p50" "$p99" "$ratio" \
      "$add_p99" "$cpu" "$add_cpu" "$alloc" "$(sum_col steady "$t" 7)" "$(sum_col steady "$t" 8)"
  done
  for t in "${ADMIT_TARGETS[@]}"; do
    rps=$(col admit "$t" 4 | median); p50=$(col admit "$t" 5 | median); p99=$(col admit "$t" 6 | median)
    printf '| %s, admissions (new session per request) | %.0f | %.3f | %.3f | — | — | %s | — | %s | %s | %s |\n' \
      "${LABEL[$t]}" "$rps" "$p50" "$p99" "$(fact_of "admit.$t.cpu")" "$(fact_of "alloc.admit.$t" —)" "$(sum_col admit "$t" 7)" "$(sum_col admit "$t" 8)"
  done
}

# Every wrk round, so a reader can judge the scatter behind the medians.
rounds_table() {
  echo "| phase | target | round | req/s | p50 ms | p99 ms | non-2xx | socket errors | requests | proxy CPU µs/request |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '$1 == "steady" || $1 == "admit" || $1 ~ /^side-/ {printf "| %s | %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
}

cap_table() {
  local t
  echo "| gateway | seat limit | new sessions asked for | 2xx | 429 \`seats-exhausted\` | other answers | live sessions afterwards (management API) | exact |"
  echo "|---|---:|---:|---:|---:|---|---:|---|"
  for t in "${ADMIT_TARGETS[@]}"; do
    echo "| ${LABEL[$t]} | $CAP_SEATS | $CAP_ATTEMPTS | $(fact_of "cap.$t.ok") | $(fact_of "cap.$t.seats_exhausted") | $(fact_of "cap.$t.other" | xargs)$( [[ -z $(fact_of "cap.$t.other" | xargs) ]] && echo none) | $(fact_of "cap.$t.live") | $(fact_of "cap.$t.exact") |"
  done
}

# used_memory deltas, and where the bytes go by kind of key (MEMORY USAGE, summed per kind).
redis_memory_table() {
  local name what
  echo "| load | used_memory delta | units | bytes per unit | answers while loading |"
  echo "|---|---:|---:|---:|---|"
  for name in session user idle_user small; do
    case $name in
      session) what="$MEMORY_SESSIONS live sessions, each of its own user (tenant \`memsess\`)" ;;
      user) what="$MEMORY_SESSIONS registered users, active, no session (tenant \`memusers\`)" ;;
      idle_user) what="$MEMORY_SESSIONS registered users, never active (tenant \`memidle\`)" ;;
      small) what="$SMALL_SESSIONS live sessions in $SMALL_TENANTS tenants × $SMALL_TENANT_SESSIONS (tenants \`small*\`)" ;;
    esac
    echo "| $what | $(fact_of "mem.$name.delta") | $(fact_of "mem.$name.units") | $(fact_of "mem.$name.bytes_per") | $(fact_of "mem.$name.answers" "bulk endpoint, 200") |"
  done
}
key_breakdown_table() { # NAME
  local units; units=$(fact_of "mem.$1.units" 1)
  echo "| key (after \`lic:{tenant}:\`) | keys | bytes (MEMORY USAGE) | bytes per unit |"
  echo "|---|---:|---:|---:|"
  fact_of "mem.$1.keys" "" | tr ';' '\n' | awk -v u="$units" 'NF == 3 {printf "| `%s` | %d | %d | %.1f |\n", $1, $3, $2, $2 / u; s += $2}
    END {printf "| all | | %d | %.1f |\n", s, s / u}'
}

embedded_table() {
  echo "| measure | value |"
  echo "|---|---|"
  echo "| gateway + Redis (for comparison): VmRSS fresh → with $MEMORY_SESSIONS live sessions → once they are used again | $(mb "$(fact_of mem.gw_redis.rss0)") → $(mb "$(fact_of mem.gw_redis.rss1)") → $(mb "$(fact_of mem.gw_redis.rss2)") |"
  echo "| gateway + embedded store: VmRSS idle → with $MEMORY_SESSIONS live sessions (peak VmHWM) → once they are used again | $(mb "$(fact_of mem.embedded.rss_idle)") → $(mb "$(fact_of mem.embedded.rss_loaded)") ($(mb "$(fact_of mem.embedded.hwm_loaded)")) → $(mb "$(fact_of mem.embedded.rss_used)") |"
  echo "| answers while admitting them | $(fact_of mem.embedded.answers) |"
  echo "| answers while using them again | $(fact_of mem.embedded.answers_used) |"
  echo "| $EMBEDDED_CEILING_SESSIONS sessions asked for ($CEILING_TENANTS tenant(s) × $CEILING_USERS_PER_TENANT users), default settings: answers | $(fact_of ceiling.answers) |"
  echo "| … process alive afterwards | $(fact_of ceiling.alive) |"
  echo "| … live sessions afterwards (management API) | $(fact_of ceiling.live) |"
  echo "| … VmRSS at the end (peak VmHWM) | $(mb "$(fact_of ceiling.rss)") ($(mb "$(fact_of ceiling.hwm)")) |"
  echo "| … first 503 (code: detail) | $(fact_of ceiling.unavailable_detail "none") |"
  echo "| … first log line about a ceiling | $(fact_of ceiling.warning "none") |"
  if [[ $(fact_of ceiling.alive) == no ]]; then echo "| … why the process died | $(fact_of ceiling.crash) |"; fi
}

# docs/benchmarks.md (or $OUT): the verdicts, the tables, the machine, how to rerun, and the
# hand-written background-work section of the previous file, kept as it was.
write_report() {
  local kept commit dirty
  kept=$( [[ -f $OUT ]] && awk '/^## Background work with 10,000 tenants/ {on = 1} on' "$OUT" || true)
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain -- src bench 2>/dev/null || true)
  mkdir -p "$(dirname "$OUT")"
  {
    echo "# Benchmarks"
    echo
    echo "Written by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`${dirty:+ (with uncommitted changes)}."
    echo
    if [[ -n $BENCH_NOTE ]]; then echo "> **$BENCH_NOTE**"; echo; fi
    echo "## Against the targets"
    echo
    echo "Judged from this run alone. Throughput, CPU and latency verdicts mean something only on a quiet"
    echo "machine (load average near 0 before the run: here $(fact_of load.start) at the start, $(fact_of load.end) at the end"
    echo "of the proxy measurements); on a busy one the rounds scatter too widely (see every round below)."
    echo
    verdict_table
    echo
    echo "## Proxy throughput and admissions"
    echo
    echo "wrk, 1 thread, $CONNECTIONS connections, $ROUNDS rounds of ${ROUND_SECONDS} s after a ${WARMUP_SECONDS} s warm-up per target;"
    echo "the targets take turns within each round (the order rotates every round), and each ratio or"
    echo "difference is taken between rounds measured back to back, then the median over the rounds is"
    echo "shown. All processes (wrk, nginx, Redis, the proxies) share the machine's cores, so compare"
    echo "ratios, not absolute numbers. Every request of the \"admitted session\" rows, plain YARP's"
    echo "included, carries the same token and device headers (one session, admitted before the warm-up);"
    echo "every request of the \"admissions\" rows asks for a new session (distinct user/device pairs from"
    echo "10,000 users, ConcurrentSessions, seat limit 1,000,000)."
    echo
    throughput_table
    echo
    echo "**Side by side.** The rounds above take turns, so each one gets whatever this shared machine"
    echo "gives at its moment, and that moves a lot. So the bench also loads plain YARP and one gateway at"
    echo "the same time, each with its own wrk ($CONNECTIONS connections, the same headers), for $ROUNDS rounds of"
    echo "${ROUND_SECONDS} s per gateway, right after the rounds above. Both proxies then share every second of"
    echo "the machine's drift, and the ratio and CPU difference of one round compare like with like. They"
    echo "split the cores between them, so their absolute figures are lower than above; their latencies"
    echo "are not comparable with the 32-connection target and are left out of the verdicts."
    echo
    echo "Proxy CPU µs/request is the proxy process's user+system time during a round ÷ the requests"
    echo "wrk completed (/proc/PID/stat); the added CPU is the gateway's minus plain YARP's, per round."
    echo "It is the proxy's own time only: Redis's time for an admission is not in it."
    echo "Allocated bytes/request comes from a separate ${ALLOC_SECONDS:-5} s wrk run per target after the rounds, with"
    echo "\`dotnet-counters collect\` (System.Runtime dotnet.gc.heap.total_allocated) ÷ the requests wrk completed."
    echo
    echo "<details><summary>Every round</summary>"
    echo
    rounds_table
    echo
    echo "</details>"
    echo
    echo "## Exact at the cap"
    echo
    echo "Exactly $CAP_ATTEMPTS requests, each a distinct user and device, 64 in flight (\`TokenMint admit\`,"
    echo "which counts answers by status and problem \`code\`), on a ConcurrentSessions tenant with"
    echo "$CAP_SEATS seats; then its \`activeSessions\` through the management API with an operator token."
    echo
    cap_table
    echo
    echo "## Redis memory"
    echo
    echo "A redis-server of its own (no persistence, nothing else in it) and a fresh gateway with"
    echo "\`Licensing:IdleTimeout\` = $IDLE_TIMEOUT so no session ends during the phase. Each load is"
    echo "\`INFO memory\` used_memory after it minus before it, ÷ its units: sessions are admitted through the"
    echo "gateway (\`TokenMint admit\`, 32 in flight); users are registered through the bulk endpoint"
    echo "(\`PATCH /_licensing/v1/tenants/{tenant}/users\`, 10,000 per call); the small tenants' plans are"
    echo "made (\`PUT\`) before the \"before\" reading. A delta includes what the load writes besides the"
    echo "session and user keys (the session-activity and audit logs, the usage day), as a real deployment would."
    echo "Those two logs are capped per tenant (\`Licensing:AuditCapacity\` entries each), so they weigh on"
    echo "each unit only until a load writes more entries than that: a small run overstates them."
    echo
    redis_memory_table
    echo
    echo "Where the bytes go, by kind of key (\`MEMORY USAGE key SAMPLES 0\`, summed over the tenant's keys"
    echo "of that kind). $MEMORY_SESSIONS live sessions, one tenant:"
    echo
    key_breakdown_table session
    echo
    echo "$MEMORY_SESSIONS registered users without a session, one tenant:"
    echo
    key_breakdown_table user
    echo
    echo "$SMALL_TENANTS tenants × $SMALL_TENANT_SESSIONS live sessions (small hashes and sorted sets are"
    echo "stored compactly, as listpacks, up to Redis's \`*-max-listpack-entries\`; the plans, and their audit"
    echo "entries, were written before the \"before\" reading, so the delta above leaves them out):"
    echo
    key_breakdown_table small
    echo
    echo "## Embedded store: working set and ceiling"
    echo
    echo "The embedded store runs inside the gateway process, so its memory is the gateway's working set"
    echo "(VmRSS from /proc/PID/status). A fresh gateway each time. The last rows ask for"
    echo "$EMBEDDED_CEILING_SESSIONS sessions with the product's default settings (nothing about an embedded"
    echo "session ceiling is configured): the process must stay up."
    echo
    embedded_table
    echo
    echo "## Machine and versions"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) |"
    echo "| RAM | $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
    echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| .NET SDK | $(dotnet --version) |"
    echo "| YARP | $(grep -o 'Include="Yarp.ReverseProxy" Version="[^"]*"' "$ROOT/Directory.Packages.props" | sed 's/.*Version="//; s/"//') |"
    echo "| Redis | $(redis-server --version | sed 's/ sha=.*//') |"
    echo "| nginx | $(nginx -v 2>&1 | sed 's/nginx version: //') (1 worker, \`bench/nginx.conf\`) |"
    echo "| wrk | $( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}') |"
    echo
    echo "## How to rerun"
    echo
    echo '```bash'
    echo "apt-get install -y wrk nginx redis-server   # plus the .NET 10 SDK"
    echo "bench/run.sh                                 # knobs and what each phase does: bench/README.md"
    echo '```'
    echo
    echo "This run: ROUNDS=$ROUNDS ROUND_SECONDS=$ROUND_SECONDS WARMUP_SECONDS=$WARMUP_SECONDS CONNECTIONS=$CONNECTIONS"
    echo "MEMORY_SESSIONS=$MEMORY_SESSIONS SMALL_TENANTS=$SMALL_TENANTS SMALL_TENANT_SESSIONS=$SMALL_TENANT_SESSIONS"
    echo "EMBEDDED_CEILING_SESSIONS=$EMBEDDED_CEILING_SESSIONS CAP_SEATS=$CAP_SEATS CAP_ATTEMPTS=$CAP_ATTEMPTS."
    if [[ -n $kept ]]; then echo; printf '%s\n' "$kept"; fi
  } > "$OUT"
  log "wrote $OUT"
}
