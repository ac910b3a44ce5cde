#!/usr/bin/env bash
# bench/shell.sh — wrk figures for hopnhat's web shell against a bare net/http
# server on the same machine, in the same run.
#
#   bash bench/shell.sh                                   # SQLite
#   HOPNHAT_BENCH_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
#     bash bench/shell.sh                                 # SQLite, then PostgreSQL
#
# It builds hopnhat and bench/bare, starts `hopnhat serve` on a free 127.0.0.1
# port with a fresh data directory (and, for PostgreSQL, a fresh schema chosen
# by search_path, dropped at the end), creates an admin API key with
# `hopnhat apikey create`, runs `wrk -t2 -c64 -d10s --latency` against the bare
# server, /healthz, /api/v1/me and /api/v1/users, and prints req/s, p50, p99 and
# the ratio to the bare server. Every process it starts is stopped on exit.
#
# Settings: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
# BENCH_KEEP=1 keeps the work directory (logs) for a look afterwards.
# wrk, hopnhat and the database share the machine's cores: read the ratios,
# not the absolute figures, and run it on a quiet machine.
set -euo pipefail

duration=${BENCH_DURATION:-10s}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
pg_base=${HOPNHAT_BENCH_POSTGRES:-}
go=${GO:-go}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Nothing of the caller's hopnhat configuration leaks into the servers.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^HOPNHAT_' || true)

for tool in wrk curl "$go"; do
  command -v "$tool" >/dev/null || { echo "shell.sh: $tool not found" >&2; exit 1; }
done
if [[ -n $pg_base ]]; then
  command -v psql >/dev/null || { echo "shell.sh: psql not found (needed for the PostgreSQL schema)" >&2; exit 1; }
  # Load only a database on this machine.
  if ! [[ $pg_base =~ ^postgres(ql)?://([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?/ ]]; then
    echo "shell.sh: HOPNHAT_BENCH_POSTGRES must point at 127.0.0.1, localhost or [::1]" >&2
    exit 1
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hopnhat-bench.XXXXXX")
pids=()
pg_schema=""

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $pg_schema ]]; then
    psql "$pg_base" -qX -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $pg_schema CASCADE" >/dev/null 2>&1 ||
      echo "shell.sh: could not drop schema $pg_schema" >&2
  fi
  if [[ ${BENCH_KEEP:-} == 1 ]]; then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# forget PID: a process of ours that has ended and been waited for.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}

# stop PID: ask one of our servers to stop and wait for it.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# wait_url PID FILE: wait (30 s at most) for the server PID to print its
# http://127.0.0.1:PORT in FILE, and echo it.
wait_url() {
  local pid=$1 file=$2 url
  for _ in $(seq 300); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$file" 2>/dev/null | head -n1 || true)
    if [[ -n $url ]]; then echo "$url"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "shell.sh: server $pid did not start; its output:" >&2
  cat "$file" "${file%.out}.log" >&2 2>/dev/null || true
  return 1
}

# check URL [curl args]: one request must answer 200 before wrk is run, so a
# 401 or a redirect never passes for a fast answer.
check() {
  local url=$1 code; shift
  code=$(curl -sS --max-time 10 -o "$work/check.body" -w '%{http_code}' "$@" "$url")
  if [[ $code != 200 ]]; then
    echo "shell.sh: GET $url answered $code, want 200: $(head -c 300 "$work/check.body")" >&2
    exit 1
  fi
}

# to_ms VALUE: wrk's "485.00us", "2.36ms" or "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

results="$work/results.tsv"
: >"$results"

# run DB NAME URL [wrk args]: one wrk run, one line of results.
run() {
  local db=$1 name=$2 url=$3; shift 3
  [[ $url == http://127.0.0.1:* ]] || { echo "shell.sh: refusing to load $url" >&2; exit 1; }
  check "$url" "$@"
  local out="$work/wrk-$db-$name.txt"
  echo "  wrk $name ($duration) …" >&2
  # In the background, so a signal stops the run at once (bash runs traps
  # only between foreground commands, but interrupts wait).
  timeout 120 wrk -t"$threads" -c"$conns" -d"$duration" --timeout 5s --latency "$@" "$url" >"$out" &
  local w=$!
  pids+=("$w")
  wait "$w" || { echo "shell.sh: wrk failed on $url" >&2; cat "$out" >&2; exit 1; }
  forget "$w"
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF} /Socket errors:/ {s = $4 + $6 + $8 + $10; if (s > 0) print "sock:" s}' "$out" | paste -sd+ -)
  if [[ -z $rps || -z $p50 || -z $p99 ]]; then
    echo "shell.sh: could not read wrk's output:" >&2; cat "$out" >&2; exit 1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$name" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "${bad:-0}" >>"$results"
}

echo "building into $work …" >&2
(cd "$root" && "$go" build -o "$work/hopnhat" ./cmd/hopnhat && "$go" build -o "$work/bare" ./bench/bare)

"$work/bare" -addr 127.0.0.1:0 >"$work/bare.out" 2>"$work/bare.log" &
pids+=($!)
bare_url=$(wait_url "$!" "$work/bare.out")

# bench_db DB [hopnhat flags]: a fresh hopnhat on DB, measured beside the bare server.
bench_db() {
  local db=$1; shift
  local data="$work/data-$db" key pid url
  echo "== $db" >&2
  # The key first: the command migrates the fresh database, and the server
  # then starts on a database nobody else writes to.
  key=$("$work/hopnhat" apikey create --name bench --role admin --data-dir "$data" "$@" 2>"$work/apikey-$db.log")
  [[ $key == hnk_* ]] || { echo "shell.sh: apikey create printed no key:" >&2; cat "$work/apikey-$db.log" >&2; exit 1; }
  "$work/hopnhat" serve --addr 127.0.0.1:0 --data-dir "$data" --log-level info --log-format json \
    --shutdown-timeout 5s "$@" >"$work/serve-$db.out" 2>"$work/serve-$db.log" &
  pid=$!
  pids+=("$pid")
  url=$(wait_url "$pid" "$work/serve-$db.out")
  run "$db" bare "$bare_url/healthz"
  run "$db" healthz "$url/healthz"
  run "$db" me "$url/api/v1/me" -H "Authorization: Bearer $key"
  run "$db" users "$url/api/v1/users" -H "Authorization: Bearer $key"
  stop "$pid"
}

bench_db sqlite
if [[ -n $pg_base ]]; then
  pg_schema="bench_$(date +%s)_$$"
  psql "$pg_base" -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $pg_schema" >/dev/null
  sep='?'
  [[ $pg_base == *\?* ]] && sep='&'
  bench_db postgres --database-url "${pg_base}${sep}search_path=${pg_schema}"
fi

echo
echo "wrk -t$threads -c$conns -d$duration --latency, $(nproc) cores shared by wrk and the servers"
awk -F'\t' '
  BEGIN { printf "%-9s %-8s %12s %10s %10s %9s  %s\n", "db", "target", "req/s", "p50 ms", "p99 ms", "x bare", "non-2xx" }
  $2 == "bare" { base[$1] = $3 }
  { printf "%-9s %-8s %12.0f %10.3f %10.3f %9.3f  %s\n", $1, $2, $3, $4, $5, ($1 in base && base[$1] > 0) ? $3 / base[$1] : 0, $6 }
' "$results"
if awk -F'\t' '$6 != "0" { bad = 1 } END { exit !bad }' "$results"; then
  echo "shell.sh: some requests failed (non-2xx column); the figures are not valid" >&2
  exit 1
fi
