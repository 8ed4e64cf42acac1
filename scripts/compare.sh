#!/usr/bin/env bash
# Side-by-side load comparison of kakaoauth, the least-work reference (shared/baseline/limit) and,
# when Django is installed, the original implementation (shared/baseline/seed-django), all against
# the same Kakao stand-in (shared/baseline/fakekakao) with the same load generator
# (shared/baseline/loadgen): 8 workers, 5-second runs, three rounds, medians.
#
#   bash scripts/compare.sh                 # everything, results in bench-results/
#   ROUNDS=1 DURATION=3s bash scripts/compare.sh
#
# Everything listens on 127.0.0.1 only and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASELINE:-../shared/baseline}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
C=${CONCURRENCY:-8}
OUT=${OUT:-bench-results}
BIN=$(mktemp -d)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$BIN"; }
trap cleanup EXIT

echo "building tools" >&2
(cd "$BASE/fakekakao" && go build -o "$BIN/fakekakao" .)
(cd "$BASE/limit" && go build -o "$BIN/limit" .)
(cd "$BASE/loadgen" && go build -o "$BIN/loadgen" .)
go build -o "$BIN/kakaoauth" ./cmd/kakaoauth

wait_http() { for _ in $(seq 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }

"$BIN/fakekakao" -addr 127.0.0.1:9911 -issuer http://127.0.0.1:9911 >"$OUT/fakekakao.log" 2>&1 & pids+=($!)
wait_http http://127.0.0.1:9911/.well-known/jwks.json
rm -f "$BIN"/*.db*
"$BIN/limit" -addr 127.0.0.1:8099 -kakao http://127.0.0.1:9911 -db "$BIN/limit.db" >"$OUT/limit.log" 2>&1 & pids+=($!)
lpid=$!

export KAKAOAUTH_ADDR=127.0.0.1:8080 KAKAOAUTH_PUBLIC_URL=http://127.0.0.1:8080 \
  KAKAOAUTH_SECRET=benchmark-secret-benchmark-secret-0000 KAKAOAUTH_KAKAO_CLIENT_ID=test-rest-api-key \
  KAKAOAUTH_KAKAO_AUTH_URL=http://127.0.0.1:9911 KAKAOAUTH_KAKAO_API_URL=http://127.0.0.1:9911 \
  KAKAOAUTH_REDIRECT_URIS=http://127.0.0.1:3000/kakao/callback KAKAOAUTH_DATABASE_URL="sqlite:$BIN/kakaoauth.db" \
  KAKAOAUTH_RATE_LIMITS=off KAKAOAUTH_LOG_LEVEL=info
# Start-up time to the first /readyz 200 on an existing database: create it, stop, start again.
"$BIN/kakaoauth" serve >"$OUT/kakaoauth.log" 2>&1 & kpid=$!
wait_http http://127.0.0.1:8080/readyz; kill "$kpid"; wait "$kpid" 2>/dev/null || true
start=$(date +%s%N)
"$BIN/kakaoauth" serve >>"$OUT/kakaoauth.log" 2>&1 & kpid=$!; pids+=($kpid)
until curl -fs -o /dev/null http://127.0.0.1:8080/readyz; do sleep 0.002; done
startup_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "kakaoauth start to first /readyz 200: ${startup_ms} ms" | tee "$OUT/startup.txt"
wait_http http://127.0.0.1:8099/auth/me || true

seed=0
if /usr/bin/python3 -c 'import django, rest_framework, rest_framework_simplejwt' 2>/dev/null && command -v gunicorn >/dev/null; then
  seed=1
  (cd "$BASE/seed-django" && SEED_DB="$BIN/seed.db" /usr/bin/python3 manage.py migrate -v0)
  (cd "$BASE/seed-django" && SEED_DB="$BIN/seed.db" KAUTH=http://127.0.0.1:9911 KAPI=http://127.0.0.1:9911 \
    exec gunicorn -w 2 -b 127.0.0.1:9801 stalk.wsgi >"$OUT/seed.log" 2>&1) & pids+=($!)
  sleep 2
fi

peak_rss() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$kpid/status"; }
# CPU time (user + system, in clock ticks) of a process, to report the server's CPU per request.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
: >"$OUT/runs.txt"
for round in $(seq "$ROUNDS"); do
  for w in login me refresh; do
    for target in kakaoauth limit seed; do
      case $target in
        kakaoauth) args=(-target project -base http://127.0.0.1:8080) ;;
        limit) args=(-target project -base http://127.0.0.1:8099) ;;
        seed) [ "$seed" = 1 ] || continue; args=(-target seed -base http://127.0.0.1:9801) ;;
      esac
      spid=""
      case $target in kakaoauth) spid=$kpid ;; limit) spid=$lpid ;; esac
      c0=$([ -n "$spid" ] && cpu_ticks "$spid" || echo 0)
      line=$("$BIN/loadgen" "${args[@]}" -work "$w" -c "$C" -d "$DURATION" 2>&1 | tail -1)
      c1=$([ -n "$spid" ] && cpu_ticks "$spid" || echo 0)
      rate=$(sed -n 's/.*rate=\([0-9]*\)\/s.*/\1/p' <<<"$line")
      ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
      cpu=""
      [ -n "$spid" ] && [ "${ok:-0}" -gt 0 ] && cpu=" server_cpu_us_per_req=$(( (c1 - c0) * 1000000 / hz / ok ))"
      echo "$round $w $target ${rate:-0} $line$cpu" | tee -a "$OUT/runs.txt" >&2
    done
  done
done
echo "kakaoauth peak RSS: $(peak_rss) MB" | tee "$OUT/rss.txt"

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print ""; else print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
{
  echo "| workload | kakaoauth /s | reference /s | kakaoauth ÷ reference | original (Django) /s |"
  echo "|---|---|---|---|---|"
  for w in login me refresh; do
    k=$(awk -v w="$w" '$2==w && $3=="kakaoauth" {print $4}' "$OUT/runs.txt" | median)
    l=$(awk -v w="$w" '$2==w && $3=="limit" {print $4}' "$OUT/runs.txt" | median)
    s=$(awk -v w="$w" '$2==w && $3=="seed" {print $4}' "$OUT/runs.txt" | median)
    ratio=$(awk -v k="$k" -v l="$l" 'BEGIN {printf "%.2f", (l ? k/l : 0)}')
    echo "| $w | $k | $l | $ratio | ${s:-—} |"
  done
} | tee "$OUT/summary.md"
