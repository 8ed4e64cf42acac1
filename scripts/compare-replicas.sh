#!/usr/bin/env bash
# Two kakaoauth replicas on one PostgreSQL (and, with REDIS_URL, one Redis) against the
# least-work reference on SQLite (shared/baseline/limit), in one sitting, with the tools of
# scripts/compare.sh: each replica gets C/2 load workers at the same time, the reference C.
# The rate of kakaoauth is the sum of both replicas'.
#
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable bash scripts/compare-replicas.sh
#   ROUNDS=1 DURATION=3s PORT_BASE=18000 … bash scripts/compare-replicas.sh
#   DB_PARAMS=synchronous_commit=off bash scripts/compare-replicas.sh   # see README: Running more than one instance
#
# A database named kakaoauth_bench_<pid> is created for the run and dropped at the end. Ports
# PORT_BASE+0…+3 on 127.0.0.1 must be free (default 18080…18083), so it can run beside
# scripts/compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASELINE:-../shared/baseline}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
C=${CONCURRENCY:-8}
P=${PORT_BASE:-18080}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
OUT=${OUT:-bench-results}
BIN=$(mktemp -d)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DB=kakaoauth_bench_$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$BIN"
}
trap cleanup EXIT

(cd "$BASE/fakekakao" && go build -o "$BIN/fakekakao" .)
(cd "$BASE/limit" && go build -o "$BIN/limit" .)
(cd "$BASE/loadgen" && go build -o "$BIN/loadgen" .)
go build -o "$BIN/kakaoauth" ./cmd/kakaoauth
wait_http() { for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }

KAKAO=http://127.0.0.1:$((P+3))
"$BIN/fakekakao" -addr 127.0.0.1:$((P+3)) -issuer "$KAKAO" >"$OUT/replicas-fakekakao.log" 2>&1 & pids+=($!)
wait_http "$KAKAO/.well-known/jwks.json"
"$BIN/limit" -addr 127.0.0.1:$((P+2)) -kakao "$KAKAO" -db "$BIN/limit.db" >"$OUT/replicas-limit.log" 2>&1 & pids+=($!)
lpid=$!
psql "$PG_URL" -qc "CREATE DATABASE $DB" >/dev/null
dburl=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path='/'+sys.argv[2])))" "$PG_URL" "$DB")
# DB_PARAMS adds pgx parameters to the replicas' URL only, e.g. DB_PARAMS=synchronous_commit=off.
[ -n "${DB_PARAMS:-}" ] && dburl="$dburl&$DB_PARAMS"

export KAKAOAUTH_PUBLIC_URL=http://127.0.0.1:$P \
  KAKAOAUTH_SECRET=benchmark-secret-benchmark-secret-0000 KAKAOAUTH_KAKAO_CLIENT_ID=test-rest-api-key \
  KAKAOAUTH_KAKAO_AUTH_URL="$KAKAO" KAKAOAUTH_KAKAO_API_URL="$KAKAO" \
  KAKAOAUTH_REDIRECT_URIS=http://127.0.0.1:3000/kakao/callback KAKAOAUTH_DATABASE_URL="$dburl" \
  KAKAOAUTH_RATE_LIMITS=off KAKAOAUTH_LOG_LEVEL=info KAKAOAUTH_REDIS_URL="${REDIS_URL:-}"
KAKAOAUTH_ADDR=127.0.0.1:$P "$BIN/kakaoauth" serve >"$OUT/replicas-a.log" 2>&1 & apid=$!; pids+=($apid)
wait_http "http://127.0.0.1:$P/readyz"
KAKAOAUTH_ADDR=127.0.0.1:$((P+1)) "$BIN/kakaoauth" serve >"$OUT/replicas-b.log" 2>&1 & bpid=$!; pids+=($bpid)
wait_http "http://127.0.0.1:$((P+1))/readyz"
wait_http "http://127.0.0.1:$((P+2))/auth/me" || true

rate_of() { sed -n 's/.*rate=\([0-9]*\)\/s.*/\1/p' <<<"$1"; }
: >"$OUT/replicas-runs.txt"
for round in $(seq "$ROUNDS"); do
  for w in login me refresh; do
    la=$(mktemp); lb=$(mktemp)
    "$BIN/loadgen" -target project -base "http://127.0.0.1:$P" -kakao "$KAKAO" -work "$w" -c $((C/2)) -d "$DURATION" >"$la" 2>&1 &
    ga=$!
    "$BIN/loadgen" -target project -base "http://127.0.0.1:$((P+1))" -kakao "$KAKAO" -work "$w" -c $((C/2)) -d "$DURATION" >"$lb" 2>&1 &
    gb=$!
    wait $ga $gb
    ra=$(rate_of "$(tail -1 "$la")"); rb=$(rate_of "$(tail -1 "$lb")")
    echo "$round $w replicas $(( ${ra:-0} + ${rb:-0} )) a: $(tail -1 "$la") b: $(tail -1 "$lb")" | tee -a "$OUT/replicas-runs.txt" >&2
    rm -f "$la" "$lb"
    line=$("$BIN/loadgen" -target project -base "http://127.0.0.1:$((P+2))" -kakao "$KAKAO" -work "$w" -c "$C" -d "$DURATION" 2>&1 | tail -1)
    echo "$round $w limit $(rate_of "$line") $line" | tee -a "$OUT/replicas-runs.txt" >&2
  done
done
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print ""; else print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
{
  echo "| workload | 2 replicas on PostgreSQL /s | reference (SQLite) /s | ratio |"
  echo "|---|---|---|---|"
  for w in login me refresh; do
    k=$(awk -v w="$w" '$2==w && $3=="replicas" {print $4}' "$OUT/replicas-runs.txt" | median)
    l=$(awk -v w="$w" '$2==w && $3=="limit" {print $4}' "$OUT/replicas-runs.txt" | median)
    echo "| $w | $k | $l | $(awk -v k="$k" -v l="$l" 'BEGIN {printf "%.2f", (l ? k/l : 0)}') |"
  done
} | tee "$OUT/replicas-summary.md"
