#!/usr/bin/env bash
# bench/procedure.sh — public tracking against a bare net/http handler running
# the same SELECTs on the same database, in one `go test -bench` run on
# 127.0.0.1, then the statistics queries; prints requests/s, p50, p99 and the
# ratio (the issue's target: app ≥ 0.7× bare).
#
#   bash bench/procedure.sh                      # 100,000 generated dossiers, SQLite
#   HOPNHAT_BENCH_DOSSIERS=1000000 bash bench/procedure.sh
#   HOPNHAT_BENCH_DB='postgres://postgres@127.0.0.1:5432/hopnhat_10m?sslmode=disable' bash bench/procedure.sh
#
# HOPNHAT_BENCH_DB names a database filled by `hopnhat generate dossiers` (a
# PostgreSQL URL or an SQLite data directory). BENCH_TIME (10s) is each
# target's -benchtime. The client, the server and the database share the
# machine's cores: read the ratio, not the absolute figures.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
benchtime=${BENCH_TIME:-10s}
if [[ -n ${HOPNHAT_BENCH_DB:-} && ${HOPNHAT_BENCH_DB} == postgres* ]] &&
  ! [[ $HOPNHAT_BENCH_DB =~ ^postgres(ql)?://([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?/ ]]; then
  echo "procedure.sh: HOPNHAT_BENCH_DB must point at this machine" >&2
  exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$root"
go test ./cmd/hopnhat/ -run '^$' -bench 'Track$|ProcedureStats' -benchtime "$benchtime" -timeout 2h | tee "$out"
awk '
  /^BenchmarkTrack\/(bare|app)/ {
    name = $1; sub(/^BenchmarkTrack\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) {
      if ($(i+1) == "req/s") rps[name] = $i
      if ($(i+1) == "p99-ms") p99[name] = $i
      if ($(i+1) == "p50-ms") p50[name] = $i
    }
  }
  END {
    if (!("bare" in rps) || !("app" in rps)) { print "procedure.sh: no tracking figures" > "/dev/stderr"; exit 1 }
    printf "\ntracking: bare %.0f req/s (p50 %s ms, p99 %s ms); hopnhat %.0f req/s (p50 %s ms, p99 %s ms)\n", rps["bare"], p50["bare"], p99["bare"], rps["app"], p50["app"], p99["app"]
    printf "ratio hopnhat/bare: %.2f (target ≥ 0.70)\n", rps["app"] / rps["bare"]
  }' "$out"
