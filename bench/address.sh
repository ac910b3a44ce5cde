#!/usr/bin/env bash
# bench/address.sh — wall time and peak memory of `hopnhat address convert`
# on a large generated input: one address per line on stdin → CSV, and a
# workbook column → workbook.
#
#   bash bench/address.sh                 # 1,000,000 addresses
#   BENCH_ROWS=100000 bash bench/address.sh
#
# The addresses come from bench/addrgen (official lists in
# HOPNHAT_ADMINUNITS_DIR, default ../shared/data/adminunits). Needs GNU time
# (/usr/bin/time). Prints the converter's own summary and the wall time and
# maximum resident set size of each run.
set -euo pipefail
rows=${BENCH_ROWS:-1000000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lists=${HOPNHAT_ADMINUNITS_DIR:-$root/../shared/data/adminunits}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
go build -o "$work/hopnhat" ./cmd/hopnhat
go run ./bench/addrgen -dir "$lists" -n "$rows" -out "$work/addr.txt" -xlsx "$work/addr.xlsx"
report() { grep -E "Đã chuyển|Elapsed|Maximum resident" "$1" | sed 's/^\t//'; }
echo "== stdin → CSV, $rows addresses"
/usr/bin/time -v "$work/hopnhat" address convert --adminunits-dir "$lists" <"$work/addr.txt" >"$work/out.csv" 2>"$work/t1"
report "$work/t1"
echo "== workbook column → workbook, $rows rows"
/usr/bin/time -v "$work/hopnhat" address convert --adminunits-dir "$lists" --in "$work/addr.xlsx" \
	--column "Địa chỉ thường trú" --out "$work/out.xlsx" 2>"$work/t2"
report "$work/t2"
