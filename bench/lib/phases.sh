# The phases of one run, in the order run.sh calls them. Each records facts (or rows in $RESULTS)
# that report.sh turns into docs/benchmarks.md.

# Tokens for every phase, signed with this run's key (no key lives in the repository).
mint_tokens() {
  log "minting tokens"
  mint bench 1 steady- "$WORK/steady.tokens"
  mint bench 10000 adm- "$WORK/admit.tokens"
  mint cap "$CAP_ATTEMPTS" cap- "$WORK/cap.tokens"
  mint memsess "$MEMORY_SESSIONS" ms- "$WORK/memsess.tokens"
  mint small "$SMALL_TENANT_SESSIONS" st- "$WORK/small.tokens" --tenant-count "$SMALL_TENANTS"
  mint ceil "$CEILING_USERS_PER_TENANT" ce- "$WORK/ceiling.tokens" --tenant-count "$CEILING_TENANTS"
  mint ops 1 bench-ops- "$WORK/ops.token" --role license-operator
  OPS_TOKEN=$(head -n1 "$WORK/ops.token")
  STEADY_HEADERS=(-H "Authorization: Bearer $(head -n1 "$WORK/steady.tokens")" -H "X-Device-Id: bench-steady-device")
}

# Before measuring anything: a gateway that forwards without a token would make every figure moot.
check_refusals() {
  local gw code
  for gw in "$@"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URL_OF[$gw]}/")
    [[ $code == 401 ]] || die "$gw answered $code without a token (expected 401)"
  done
}

# 1. One admitted session, the same request to every target: what the gateway adds to plain YARP.
phase_steady() {
  local t
  fact load.start "$(cut -d' ' -f1-3 /proc/loadavg)"
  log "admitted session: warm-up ${WARMUP_SECONDS}s per target, then $ROUNDS rounds of ${ROUND_SECONDS}s"
  for t in "${STEADY_TARGETS[@]}"; do run_wrk warmup "$t" 0 "$WARMUP_SECONDS" "${URL_OF[$t]}/" "${STEADY_HEADERS[@]}"; done
  run_rounds steady steady_args "${STEADY_TARGETS[@]}"
}

# 1b. The same comparison side by side: plain YARP and one gateway loaded at the same time, each by
# its own wrk with the same headers, for ROUNDS rounds per gateway. Rounds taken in turn still differ
# in what the machine gives them (on a shared VM the backend alone moved between 52k and 90k req/s
# from one round to the next); two proxies loaded together share every second of it, so their ratio
# and CPU difference keep only what the gateway adds.
phase_side_by_side() {
  local t r plain_load gateway_load
  log "side by side with plain YARP: $ROUNDS rounds of ${ROUND_SECONDS}s per gateway"
  for t in "${STEADY_TARGETS[@]}"; do
    [[ $t == gw-* ]] || continue
    for ((r = 1; r <= ROUNDS; r++)); do
      run_wrk "side-$t" plain "$r" "$ROUND_SECONDS" "${URL_OF[plain]}/" "${STEADY_HEADERS[@]}" &
      plain_load=$!
      run_wrk "side-$t" "$t" "$r" "$ROUND_SECONDS" "${URL_OF[$t]}/" "${STEADY_HEADERS[@]}" &
      gateway_load=$!
      wait "$plain_load" || die "side by side: the load on plain YARP failed"
      wait "$gateway_load" || die "side by side: the load on $t failed"
    done
  done
}

# 2. A new session on every request: the cost of an admission.
phase_admissions() {
  local t
  for t in "${ADMIT_TARGETS[@]}"; do
    run_wrk admit-warmup "$t" 0 3 "${URL_OF[$t]}/" -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "w-$t-"
  done
  run_rounds admit admit_args "${ADMIT_TARGETS[@]}"
}

# 2b. Allocated bytes per request, a figure a busy machine hardly blurs (needs dotnet-counters).
phase_allocations() {
  local t
  find_dotnet_counters
  [[ -n ${COUNTERS:-} ]] || return 0
  for t in plain "${ADMIT_TARGETS[@]}"; do alloc_pass steady "$t" "${STEADY_HEADERS[@]}"; done
  for t in "${ADMIT_TARGETS[@]}"; do alloc_pass admit "$t" -s "$ROOT/bench/admit.lua" -- "$WORK/admit.tokens" "alloc-$t-"; done
}

# 2c. Still exact at the cap: CAP_ATTEMPTS new sessions, 64 in flight, on a tenant of CAP_SEATS
# seats. Afterwards exactly CAP_SEATS live sessions and 2xx answers, every other answer 429
# seats-exhausted.
phase_cap() {
  local gw out ok full live
  for gw in "${ADMIT_TARGETS[@]}"; do
    out=$(admit_sessions "$gw" "$WORK/cap.tokens" "$CAP_ATTEMPTS" "cap-$gw-" 64)
    ok=$(answers_with "$out" 200); full=$(answers_with "$out" 429 seats-exhausted)
    live=$(live_sessions "$gw" cap)
    fact "cap.$gw.ok" "$ok"; fact "cap.$gw.seats_exhausted" "$full"; fact "cap.$gw.live" "$live"
    fact "cap.$gw.other" "$(answers_other "$out" 200 429) $(awk -F'\t' '$1 == 429 && $2 != "seats-exhausted" {printf "429 %s×%s ", $2, $3}' <<< "$out")"
    if [[ $live == "$CAP_SEATS" && $ok == "$CAP_SEATS" && $full == $((CAP_ATTEMPTS - CAP_SEATS)) ]]; then
      fact "cap.$gw.exact" yes
    else
      fact "cap.$gw.exact" no
    fi
  done
}

# 3. Redis bytes per live session (each of its own user, ConcurrentSessions), per registered user
# without a session (RegisteredUsers, activated through the bulk endpoint), per never-active user,
# and per session in many small tenants: used_memory deltas on a redis-server of their own.
phase_redis_memory() {
  local before out ok
  start_redis redis-mem
  start_gateway gw-mem redis-mem "${MEMORY_ENV[@]}"
  fact mem.gw_redis.rss0 "$(rss_kb "${PID_OF[gw-mem]}")"

  log "redis memory: $MEMORY_SESSIONS sessions in tenant memsess"
  before=$(redis_used redis-mem)
  out=$(admit_sessions gw-mem "$WORK/memsess.tokens" "$MEMORY_SESSIONS" ms-)
  fact mem.session.answers "$(answers_summary "$out")"
  fact mem.session.live "$(live_sessions gw-mem memsess)"
  record_redis_delta session redis-mem "$before" "$MEMORY_SESSIONS" 'lic:{memsess}:*'
  fact mem.gw_redis.rss1 "$(rss_kb "${PID_OF[gw-mem]}")"
  # The same sessions used once more: the collector gives back the headroom the burst left behind.
  admit_sessions gw-mem "$WORK/memsess.tokens" "$MEMORY_SESSIONS" ms- > /dev/null
  sleep 2
  fact mem.gw_redis.rss2 "$(rss_kb "${PID_OF[gw-mem]}")"

  log "redis memory: $MEMORY_SESSIONS registered users without a session"
  before=$(redis_used redis-mem)
  register_users gw-mem memusers "$MEMORY_SESSIONS" true
  fact mem.user.active "$(tenant_field gw-mem memusers activeUsers)"
  record_redis_delta user redis-mem "$before" "$MEMORY_SESSIONS" 'lic:{memusers}:*'

  before=$(redis_used redis-mem)
  register_users gw-mem memidle "$MEMORY_SESSIONS" false
  record_redis_delta idle_user redis-mem "$before" "$MEMORY_SESSIONS" 'lic:{memidle}:*'

  log "redis memory: $SMALL_TENANTS tenants × $SMALL_TENANT_SESSIONS sessions"
  out=$(dotnet "$ART/tokenmint/TokenMint.dll" put-plans --url "${URL_OF[gw-mem]}" --token "$OPS_TOKEN" \
    --tenant small --tenant-count "$SMALL_TENANTS" --body '{"model":"ConcurrentSessions","seatLimit":1000}')
  [[ $(awk '$1 == 201 {print $2}' <<< "$out") == "$SMALL_TENANTS" ]] || die "small tenants' plans: $out"
  before=$(redis_used redis-mem)
  out=$(admit_sessions gw-mem "$WORK/small.tokens" "$SMALL_SESSIONS" sm-)
  fact mem.small.answers "$(answers_summary "$out")"
  fact mem.small.live "$(sessions_in_tenants gw-mem small)"
  record_redis_delta small redis-mem "$before" "$SMALL_SESSIONS" 'lic:{small*}:*'
  stop_named gw-mem; stop_named redis-mem
}

# register_users GATEWAY TENANT N ACTIVE: users u0..u{N-1} through the bulk endpoint (PATCH
# .../users, at most 10,000 per call), as an ERP would bootstrap them.
register_users() {
  local gw=$1 tenant=$2 n=$3 active=$4 from code body=$WORK/users.json
  for ((from = 0; from < n; from += 10000)); do
    awk -v a="$from" -v b="$n" -v act="$active" 'BEGIN {
      printf "{\"users\":["; for (i = a; i < a + 10000 && i < b; i++) printf "%s{\"userId\":\"u%d\",\"active\":%s}", (i > a ? "," : ""), i, act; print "]}" }' > "$body"
    code=$(curl -s -o "$WORK/users.out" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $OPS_TOKEN" \
      -H 'Content-Type: application/json' --data-binary "@$body" "${URL_OF[$gw]}/_licensing/v1/tenants/$tenant/users")
    [[ $code == 200 ]] || die "registering users in $tenant answered $code: $(head -c 300 "$WORK/users.out")"
  done
}

# Live sessions summed over every tenant whose id starts with PREFIX, from the operator's tenant list.
sessions_in_tenants() { # GATEWAY PREFIX
  local cursor="" sum=0 page n
  while :; do
    page=$(curl -s -H "Authorization: Bearer $OPS_TOKEN" "${URL_OF[$1]}/_licensing/v1/tenants?limit=1000${cursor:+&cursor=$cursor}")
    n=$(grep -o "\"tenant\":\"$2[^\"]*\"[^}]*\"activeSessions\":[0-9]*" <<< "$page" | awk -F: '{s += $NF} END {print s + 0}')
    sum=$((sum + n))
    cursor=$(grep -o '"nextCursor":"[^"]*"' <<< "$page" | cut -d'"' -f4 || true)
    [[ -n $cursor ]] || break
  done
  echo "$sum"
}

# 4a. The embedded store's working set (it runs inside the gateway process): fresh, then with
# MEMORY_SESSIONS live sessions.
phase_embedded_memory() {
  local out
  start_gateway gw-emb-mem embedded "${MEMORY_ENV[@]}"
  sleep 3
  fact mem.embedded.rss_idle "$(rss_kb "${PID_OF[gw-emb-mem]}")"
  out=$(admit_sessions gw-emb-mem "$WORK/memsess.tokens" "$MEMORY_SESSIONS" es-)
  fact mem.embedded.answers "$(answers_summary "$out")"
  sleep 2
  if alive gw-emb-mem; then
    fact mem.embedded.rss_loaded "$(rss_kb "${PID_OF[gw-emb-mem]}")"
    fact mem.embedded.hwm_loaded "$(hwm_kb "${PID_OF[gw-emb-mem]}")"
    fact mem.embedded.live "$(live_sessions gw-emb-mem memsess)"
    # Right after the burst the garbage collector still holds the headroom it grew while 100k
    # sessions were admitted; it gives it back over the next collections. A second pass over the
    # same sessions (each request an admitted session) is what the process looks like in use.
    out=$(admit_sessions gw-emb-mem "$WORK/memsess.tokens" "$MEMORY_SESSIONS" es-)
    fact mem.embedded.answers_used "$(answers_summary "$out")"
    sleep 2
    fact mem.embedded.rss_used "$(rss_kb "${PID_OF[gw-emb-mem]}")"
    fact mem.embedded.live_used "$(live_sessions gw-emb-mem memsess)"
  else
    fact mem.embedded.crash "$(crash_summary "$WORK/gw-emb-mem.log")"
  fi
  stop_named gw-emb-mem
}

# 4b. EMBEDDED_CEILING_SESSIONS new sessions on the embedded store with the product's default
# settings (Licensing:Embedded:MaxSessions, where the build has it, is left alone): the process
# must stay up; sessions above a ceiling are refused with 503 store-unavailable.
phase_embedded_ceiling() {
  local out
  start_gateway gw-ceiling embedded "${CEILING_ENV[@]}"
  out=$(admit_sessions gw-ceiling "$WORK/ceiling.tokens" "$EMBEDDED_CEILING_SESSIONS" ce-)
  fact ceiling.answers "$(answers_summary "$out")"
  fact ceiling.ok "$(answers_with "$out" 200)"
  fact ceiling.unavailable "$(answers_with "$out" 503)"
  fact ceiling.unavailable_detail "$(awk -F'\t' '$1 == 503 {print $2 ": " $4; exit}' <<< "$out")"
  fact ceiling.warning "$(grep -m1 -i -E 'ceiling|MaxSessions' "$WORK/gw-ceiling.log" | tr -d '\r|' | cut -c1-300 || true)"
  sleep 2
  if alive gw-ceiling; then
    fact ceiling.alive yes
    fact ceiling.rss "$(rss_kb "${PID_OF[gw-ceiling]}")"
    fact ceiling.hwm "$(hwm_kb "${PID_OF[gw-ceiling]}")"
    fact ceiling.live "$(tenant_field_sum gw-ceiling ceil "$CEILING_TENANTS" activeSessions)"
  else
    fact ceiling.alive no
    fact ceiling.crash "$(crash_summary "$WORK/gw-ceiling.log")"
    cp "$WORK/gw-ceiling.log" "$ART/gw-ceiling-crash.log" 2>/dev/null || true
  fi
  stop_named gw-ceiling
}
