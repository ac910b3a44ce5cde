#!/usr/bin/env bash
# bench/gateway.sh — wrk figures for hopnhat's gateway against nginx as a
# reverse proxy in front of the same upstream, on 127.0.0.1, in one run; or a
# soak run that watches the gateway's memory under steady load.
#
#   bash bench/gateway.sh                     # direct upstream, nginx proxy, gateway
#   BENCH_TIME=30s bash bench/gateway.sh
#   bash bench/gateway.sh soak                # 600 s on the gateway, RSS every 30 s
#   SOAK_TIME=1h bash bench/gateway.sh soak
#
# The upstream is an nginx worker answering every call with a fixed 315-byte
# JSON (bench/gateway/upstream.conf). The proxy is nginx with `worker_processes
# auto`, pooled keep-alive connections to the upstream, X-Forwarded-For and
# X-Request-Id set and a buffered access log (bench/gateway/proxy.conf). The
# gateway is `hopnhat gateway` on a fresh SQLite data directory with one
# service, one consumer, a key and a GET grant at the highest rate a grant
# takes, 100,000,000 a minute: the limiter runs but its bucket never
# empties; key check, grant
# check, rate limit and message log are always on. Each target gets a 2 s warm-up,
# then `wrk -t2 -c64 -d$BENCH_TIME --latency` with the same Authorization
# header; any non-2xx answer or socket error fails the run. The script prints
# req/s, p50 and p99 per target, the gateway/nginx ratios (targets: req/s
# ≥ 0.80, p99 ≤ 1.20) and the gateway's resident memory after its run.
#
# Soak: the upstream and the gateway only, wrk -t2 -c64 for SOAK_TIME; the
# gateway's VmRSS is sampled after a 10 s warm-up and then every SOAK_EVERY
# seconds, and the first and last samples are printed.
#
# A fourth target is Go's httputil.ReverseProxy alone (bench/bare -proxy),
# with no key, grant, limit or log: the gateway/go-proxy ratio is what the
# gateway's own work costs, the go-proxy/nginx ratio what Go's proxy does
# here against nginx's.
#
# Settings: BENCH_TIME (15s), SOAK_TIME (600s; s, m or h), SOAK_EVERY (30),
# BENCH_BIN (a hopnhat binary to use instead of building one), BENCH_BARE
# (the same for bench/bare), BENCH_KEEP=1
# keeps the work directory (nginx logs, the gateway's output) afterwards.
# Needs wrk, nginx, curl and go. wrk, nginx and the gateway share the
# machine's cores: read the ratios, not the absolute figures, and run it on a
# quiet machine. Every process it starts is stopped on exit.
set -euo pipefail

mode=${1:-bench}
case $mode in
bench | soak) ;;
*)
  echo "usage: bash bench/gateway.sh [bench|soak]" >&2
  exit 2
  ;;
esac
duration=${BENCH_TIME:-15s}
threads=2
conns=64
soak_every=${SOAK_EVERY:-30}
go=${GO:-go}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
templates=$root/bench/gateway
# Nothing of the caller's hopnhat configuration leaks into the gateway.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^HOPNHAT_' || true)

die() {
  echo "gateway.sh: $*" >&2
  exit 1
}

# seconds VALUE: "600", "600s", "10m" or "1h" in seconds.
seconds() {
  [[ $1 =~ ^([0-9]+)([smh]?)$ ]] || die "not a duration: $1 (want e.g. 600s, 10m, 1h)"
  local n=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in
  m) n=$((n * 60)) ;;
  h) n=$((n * 3600)) ;;
  esac
  echo "$n"
}
soak_secs=$(seconds "${SOAK_TIME:-600s}")
[[ $soak_every =~ ^[1-9][0-9]*$ ]] || die "SOAK_EVERY must be a whole number of seconds"
[[ $duration =~ ^[0-9]+[smh]?$ ]] || die "BENCH_TIME must be like 15s, 1m"

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install wrk nginx-light curl)"
done
[[ -n ${BENCH_BIN:-} ]] || command -v "$go" >/dev/null || die "$go not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/hopnhat-gw-bench.XXXXXX")
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do reap "$pid"; done
  if [[ ${BENCH_KEEP:-} == 1 ]]; then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# reap PID: wait (10 s at most) for our child PID to end, then kill it.
reap() {
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    echo "gateway.sh: process $1 did not stop on SIGTERM; killing it" >&2
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}

# forget PID: a process of ours that has ended and been waited for.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line.
free_ports() {
  if command -v python3 >/dev/null; then
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' "$1"
    return
  fi
  local got=() p
  while ((${#got[@]} < $1)); do
    p=$((20000 + RANDOM % 30000))
    [[ " ${got[*]} " == *" $p "* ]] && continue
    ss -Htln "sport = :$p" | grep -q . || got+=("$p")
  done
  printf '%s\n' "${got[@]}"
}

# wait_listen NAME PID PORT LOG: wait (30 s at most) until something answers
# HTTP on 127.0.0.1:PORT; fail with the server's log if PID ends or time is up.
wait_listen() {
  local name=$1 pid=$2 port=$3 log=$4 code i
  for ((i = 0; i < 300; i++)); do
    code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
    [[ -n $code && $code != 000 ]] && return 0
    kill -0 "$pid" 2>/dev/null || {
      echo "gateway.sh: $name (pid $pid) ended before listening on 127.0.0.1:$port; its log:" >&2
      cat "$log" >&2 2>/dev/null || true
      exit 1
    }
    sleep 0.1
  done
  echo "gateway.sh: $name did not listen on 127.0.0.1:$port within 30 s; its log:" >&2
  cat "$log" >&2 2>/dev/null || true
  exit 1
}

# start_nginx NAME TEMPLATE PORT [UPSTREAM]: an nginx of its own under
# $work/NAME, in the foreground (daemon off) as our child; sets nginx_pid.
nginx_pid=
start_nginx() {
  local name=$1 template=$2 port=$3 upstream=${4:-} prefix=$work/$1 user=
  mkdir -p "$prefix/tmp"
  ((EUID == 0)) && user='user root;'
  sed -e "s|@USER@|$user|" -e "s|@PREFIX@|$prefix|g" -e "s|@LISTEN@|127.0.0.1:$port|g" \
    -e "s|@UPSTREAM@|$upstream|g" "$template" >"$prefix/nginx.conf"
  ! grep -q '@[A-Z]*@' "$prefix/nginx.conf" || die "unfilled placeholder in $prefix/nginx.conf"
  nginx -t -q -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" 2>"$prefix/test.log" || {
    echo "gateway.sh: nginx rejected $prefix/nginx.conf:" >&2
    cat "$prefix/test.log" "$prefix/error.log" >&2 2>/dev/null || true
    exit 1
  }
  nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
  wait_listen "nginx $name" "$nginx_pid" "$port" "$prefix/error.log"
}

# to_ms VALUE: wrk's "485.00us", "2.36ms", "1.02s" or "1.00m" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# rss_kib PID [FIELD]: a field of /proc/PID/status in KiB (VmRSS unless told).
rss_kib() {
  awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# check URL: one request must answer 200 before wrk is run, so a 401 or a
# 404 never passes for a fast answer.
check() {
  local url=$1 code
  code=$(curl -sS --max-time 10 -o "$work/check.body" -w '%{http_code}' -H "Authorization: Bearer $key" "$url" || true)
  if [[ $code != 200 ]]; then
    die "GET $url answered ${code:-nothing}, want 200: $(head -c 300 "$work/check.body" 2>/dev/null)"
  fi
}

# wrk_run OUT DURATION URL: wrk in the background (so a signal stops it at
# once: bash runs traps between foreground commands only, but interrupts
# wait), bounded by timeout; fails on wrk's own failure.
wrk_run() {
  local out=$1 d=$2 url=$3 limit w
  [[ $url == http://127.0.0.1:* ]] || die "refusing to load $url"
  limit=$(($(seconds "$d") + 60))
  timeout "$limit" wrk -t"$threads" -c"$conns" -d"$d" --timeout 5s --latency \
    -H "Authorization: Bearer $key" "$url" >"$out" 2>&1 &
  w=$!
  pids+=("$w")
  wait "$w" || {
    echo "gateway.sh: wrk failed on $url:" >&2
    cat "$out" >&2
    exit 1
  }
  forget "$w"
}

# wrk_errors OUT: "" when wrk saw only 2xx answers and no socket error, else
# what went wrong. wrk counts 3xx as success, so check() has made sure the
# URL answers 200.
wrk_errors() {
  awk '
    /Non-2xx or 3xx responses:/ { e = e sprintf(" non-2xx:%s", $NF) }
    /Socket errors:/ { gsub(",", ""); for (i = 3; i < NF; i += 2) if ($(i+1) + 0 > 0) e = e sprintf(" %s:%s", $i, $(i+1)) }
    END { sub(/^ /, "", e); print e }' "$1"
}

results=$work/results.tsv
: >"$results"
failed=0

# measure NAME URL: warm-up, then one measured wrk run; one line of results.
measure() {
  local name=$1 url=$2 out=$work/wrk-$1.txt rps p50 p99 bad
  check "$url"
  echo "  $name: warm-up 2s, then wrk -t$threads -c$conns -d$duration …" >&2
  wrk_run "$work/warm-$name.txt" 2s "$url"
  bad=$(wrk_errors "$work/warm-$name.txt")
  [[ -z $bad ]] || echo "gateway.sh: $name: errors during the warm-up: $bad" >&2
  wrk_run "$out" "$duration" "$url"
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(awk '$1 == "50%" { print $2 }' "$out")
  p99=$(awk '$1 == "99%" { print $2 }' "$out")
  if [[ -z $rps || -z $p50 || -z $p99 ]]; then
    echo "gateway.sh: could not read wrk's output for $name:" >&2
    cat "$out" >&2
    exit 1
  fi
  bad=$(wrk_errors "$out")
  if [[ -n $bad ]]; then
    echo "gateway.sh: FAILED RUN: $name: $bad" >&2
    sed 's/^/    /' "$out" >&2
    failed=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "${bad:-none}" >>"$results"
}

# start_gateway: set up a fresh data directory in front of the upstream and
# start `hopnhat gateway`; sets key and gw_pid.
key=bench-no-key
gw_pid=
start_gateway() {
  local data=$work/data log=$work/setup.log sid cid i
  sid=$("$bin" --data-dir "$data" gateway service add --code bench --name "Dịch vụ đo tải" \
    --primary "http://127.0.0.1:$up_port" 2>>"$log") || { cat "$log" >&2; die "gateway service add failed"; }
  cid=$("$bin" --data-dir "$data" gateway consumer add --name "Máy đo tải" 2>>"$log") ||
    { cat "$log" >&2; die "gateway consumer add failed"; }
  [[ -n $sid && -n $cid ]] || { cat "$log" >&2; die "service add / consumer add printed no id"; }
  key=$("$bin" --data-dir "$data" gateway key issue --consumer "$cid" 2>>"$log") ||
    { cat "$log" >&2; die "gateway key issue failed"; }
  [[ -n $key && $key != *[[:space:]]* ]] || { cat "$log" >&2; die "gateway key issue printed no single key: '$key'"; }
  "$bin" --data-dir "$data" gateway grant --consumer "$cid" --service bench --methods GET \
    --rate 100000000 >>"$log" 2>&1 || { cat "$log" >&2; die "gateway grant failed"; }
  "$bin" --data-dir "$data" --log-level warn gateway --addr "127.0.0.1:$gw_port" \
    >"$work/gateway.out" 2>"$work/gateway.log" &
  gw_pid=$!
  pids+=("$gw_pid")
  wait_listen "the gateway" "$gw_pid" "$gw_port" "$work/gateway.log"
  for ((i = 0; i < 20; i++)); do
    grep -qs "is running" "$work/gateway.out" "$work/gateway.log" && return 0
    sleep 0.1
  done
  echo "gateway.sh: note: the gateway answers but has not printed \"is running\"" >&2
}

if [[ -n ${BENCH_BIN:-} ]]; then
  bin=$BENCH_BIN
  [[ -x $bin ]] || die "BENCH_BIN=$bin is not an executable"
else
  echo "building hopnhat into $work …" >&2
  (cd "$root" && "$go" build -o "$work/hopnhat" ./cmd/hopnhat)
  bin=$work/hopnhat
fi
bare=${BENCH_BARE:-}
if [[ $mode == bench && -z $bare ]]; then
  (cd "$root" && "$go" build -o "$work/bare" ./bench/bare)
  bare=$work/bare
fi

mapfile -t ports < <(free_ports 4)
((${#ports[@]} == 4)) || die "could not find four free ports"
up_port=${ports[0]} px_port=${ports[1]} gw_port=${ports[2]} go_port=${ports[3]}

start_nginx upstream "$templates/upstream.conf" "$up_port"
start_gateway

if [[ $mode == soak ]]; then
  url=http://127.0.0.1:$gw_port/gw/bench/anything
  check "$url"
  echo "soak: wrk -t$threads -c$conns -d${soak_secs}s on the gateway, VmRSS after 10 s, then every ${soak_every} s" >&2
  [[ $url == http://127.0.0.1:* ]] || die "refusing to load $url"
  out=$work/wrk-soak.txt
  timeout $((soak_secs + 60)) wrk -t"$threads" -c"$conns" -d"${soak_secs}s" --timeout 5s --latency \
    -H "Authorization: Bearer $key" "$url" >"$out" 2>&1 &
  w=$!
  pids+=("$w")
  start=$SECONDS
  next=10
  first='' last=''
  printf '%8s %10s\n' "elapsed" "VmRSS MiB"
  while kill -0 "$w" 2>/dev/null; do
    if ((SECONDS - start >= next)); then
      rss=$(rss_kib "$gw_pid")
      [[ -n $rss ]] || die "the gateway (pid $gw_pid) is gone; its log: $(tail -n 20 "$work/gateway.log")"
      printf '%7ds %10s\n' "$((SECONDS - start))" "$(mib "$rss")"
      first=${first:-$rss}
      last=$rss
      next=$((next + soak_every))
    fi
    sleep 1 &
    wait $! || true
  done
  wait "$w" || {
    echo "gateway.sh: wrk failed:" >&2
    cat "$out" >&2
    exit 1
  }
  forget "$w"
  [[ -n $first ]] || die "no RSS sample was taken (SOAK_TIME shorter than the 10 s warm-up?)"
  echo
  grep -E '^ +(Latency|Req/Sec) |^ +(50|99)%|Requests/sec|requests in' "$out" || true
  echo "RSS start: $(mib "$first") MiB, end: $(mib "$last") MiB (peak $(mib "$(rss_kib "$gw_pid" VmHWM)") MiB, idle after the run $(mib "$(rss_kib "$gw_pid")") MiB)"
  bad=$(wrk_errors "$out")
  [[ -z $bad ]] || die "FAILED RUN: the soak saw $bad"
  exit 0
fi

start_nginx proxy "$templates/proxy.conf" "$px_port" "127.0.0.1:$up_port"
# Go's own httputil.ReverseProxy with nothing else: what Go proxies here.
# It runs with the gateway's GOGC (400 unless GOGC is set), so only the work differs.
GOGC=${GOGC:-400} "$bare" -addr "127.0.0.1:$go_port" -proxy "http://127.0.0.1:$up_port" >"$work/bare.out" 2>&1 &
go_pid=$!
pids+=("$go_pid")
wait_listen "the Go reverse proxy" "$go_pid" "$go_port" "$work/bare.out"

direct_url=http://127.0.0.1:$up_port/anything
nginx_url=http://127.0.0.1:$px_port/gw/bench/anything
goproxy_url=http://127.0.0.1:$go_port/gw/bench/anything
gateway_url=http://127.0.0.1:$gw_port/gw/bench/anything
# All answer 200 before any is measured.
for u in "$direct_url" "$nginx_url" "$goproxy_url" "$gateway_url"; do check "$u"; done
echo "== direct upstream :$up_port, nginx proxy :$px_port, Go proxy :$go_port, gateway :$gw_port" >&2
measure direct "$direct_url"
measure nginx "$nginx_url"
measure go-proxy "$goproxy_url"
measure gateway "$gateway_url"
gw_rss=$(rss_kib "$gw_pid")
gw_hwm=$(rss_kib "$gw_pid" VmHWM)

echo
echo "wrk -t$threads -c$conns -d$duration --latency, $(nproc) cores shared by wrk, nginx and the gateway"
awk -F'\t' '
  BEGIN { printf "%-9s %12s %10s %10s  %s\n", "target", "req/s", "p50 ms", "p99 ms", "errors" }
  { printf "%-9s %12.0f %10.3f %10.3f  %s\n", $1, $2, $3, $4, $5 }
' "$results"
awk -F'\t' '
  { rps[$1] = $2; p99[$1] = $4 }
  END {
    printf "gateway/nginx req/s ratio: %.2f (target ≥ 0.80)\n", rps["gateway"] / rps["nginx"]
    printf "gateway/nginx p99 ratio: %.2f (target ≤ 1.20)\n", (p99["nginx"] > 0 ? p99["gateway"] / p99["nginx"] : 0)
    printf "Go proxy/nginx req/s ratio: %.2f; gateway/Go proxy req/s ratio: %.2f (what key, grant, limit and log cost)\n", rps["go-proxy"] / rps["nginx"], rps["gateway"] / rps["go-proxy"]
  }' "$results"
echo "gateway RSS after its run: $(mib "${gw_rss:-0}") MiB (peak $(mib "${gw_hwm:-0}") MiB)"
if ((failed)); then
  die "some runs had errors (see above and the errors column); the figures are not valid"
fi
