# Reading what a run did to the processes and the store: working sets, Redis memory, live counts.

# Working set (resident) and its peak, in kB, from /proc: what the operating system has to give.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
kb_to_mb() { calc '%.0f' 'k / 1024' k="$1"; }

# Bytes Redis has allocated for data and itself: the delta over a load is what the load costs.
redis_used() { redis_cli "$1" INFO memory | awk -F: '/^used_memory:/ {gsub(/\r/, "", $2); print $2}'; }

# tenant_field GATEWAY TENANT FIELD: a number from the tenant's management API answer
# (activeSessions, activeUsers). Through the API, because the embedded store takes a password
# made at each start, so no outside client can read it.
tenant_field() {
  curl -s -H "Authorization: Bearer $OPS_TOKEN" "${URL_OF[$1]}/_licensing/v1/tenants/$2" |
    grep -o "\"$3\":[0-9]*" | cut -d: -f2 | grep . || echo "?"
}
live_sessions() { tenant_field "$1" "$2" activeSessions; }

# Sum of a tenant field over tenants PREFIX0..PREFIX{K-1}, "?" when a tenant does not answer.
tenant_field_sum() { # GATEWAY PREFIX K FIELD
  local j v sum=0
  for ((j = 0; j < $3; j++)); do
    v=$(tenant_field "$1" "$2$j" "$4")
    [[ $v == "?" ]] && { echo "?"; return; }
    sum=$((sum + v))
  done
  echo "$sum"
}

# key_breakdown REDIS PATTERN: "suffix bytes keys" lines, one per kind of key matching the pattern,
# from MEMORY USAGE (SAMPLES 0: every element counted). The kind is what follows the tenant's
# hash tag up to the next colon, so the table follows the product's key layout whatever it is.
key_breakdown() {
  local name=$1 pattern=$2 keys=$WORK/keys.txt
  redis_cli "$name" --scan --pattern "$pattern" > "$keys"
  [[ -s $keys ]] || return 0
  awk '{gsub(/"/, "\\\""); print "MEMORY USAGE \"" $0 "\" SAMPLES 0"}' "$keys" | redis_cli "$name" > "$keys.bytes"
  paste "$keys" "$keys.bytes" | awk -F'\t' '{
      k = $1; sub(/^[^}]*}:/, "", k); n = split(k, part, ":"); kind = part[1] (n > 1 ? ":*" : "")
      bytes[kind] += $2; count[kind]++ }
    END {for (k in bytes) printf "%s %d %d\n", k, bytes[k], count[k]}' | sort -k2,2nr
}

# The memory of one kind of load: used_memory before and after, per unit, and the key breakdown,
# all recorded as facts under NAME (mem.NAME.bytes_per, mem.NAME.keys).
record_redis_delta() { # NAME REDIS USED_BEFORE UNITS KEY_PATTERN
  local name=$1 redis=$2 before=$3 units=$4 pattern=$5 after
  sleep 1 # let the last replies and the gateway's background writes land
  after=$(redis_used "$redis")
  fact "mem.$name.delta" "$((after - before))"
  fact "mem.$name.units" "$units"
  fact "mem.$name.bytes_per" "$(calc '%.0f' '(a - b) / u' a="$after" b="$before" u="$units")"
  fact "mem.$name.keys" "$(key_breakdown "$redis" "$pattern" | tr '\n' ';')"
}
