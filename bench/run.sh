#!/usr/bin/env bash
# Load-tests an authenticated no-op request (JWT verification + key resolution) on a live
# commons binary, on each engine, side by side with the bare baseline in bench/bare, and
# measures start-to-ready time and idle memory. Loopback only; every run is bounded.
#
#   bench/run.sh                 # both engines (PostgreSQL from COMMONS_TEST_POSTGRES_URL)
#   ENGINES=sqlite bench/run.sh  # one engine
#   DURATION=10s CONNECTIONS=64 THREADS=2 ROUNDS=3 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-sqlite postgres}
PG_URL=${COMMONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/commons" ./cmd/commons
go build -o "$work/bare" ./bench/bare

wait_ready() { for _ in $(seq 1 200); do curl -fs "$1/readyz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench: $1 not ready" >&2; exit 1; }
rps() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '/ 99%/ {print $2}'; }

jwt() { # service id, secret → a Notify-style HS256 token with iat = now
	local enc='base64 -w0' header payload sig
	header=$(printf '{"alg":"HS256","typ":"JWT"}' | $enc | tr '+/' '-_' | tr -d '=')
	payload=$(printf '{"iss":"%s","iat":%d}' "$1" "$(date +%s)" | $enc | tr '+/' '-_' | tr -d '=')
	sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$2" -binary | $enc | tr '+/' '-_' | tr -d '=')
	printf '%s.%s.%s' "$header" "$payload" "$sig"
}

"$work/bare" -addr 127.0.0.1:18090 & pids+=($!)
sleep 0.3

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(go version | cut -d' ' -f3), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds"
for engine in $ENGINES; do
	data="$work/$engine"
	mkdir -p "$data"
	if [ "$engine" = sqlite ]; then
		url="sqlite:$data/commons.db"
	else
		name="commons_bench_$$"
		psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $name" >/dev/null
		psql "$PG_URL" -qc "CREATE DATABASE $name" >/dev/null
		url="${PG_URL/\/test?//$name?}"
	fi
	export COMMONS_DATABASE_URL="$url" COMMONS_DATA_DIR="$data"
	"$work/commons" migrate >/dev/null
	svc=$("$work/commons" admin create-service --name "Bench $engine" | sed -E 's/.*"id":"([^"]+)".*/\1/')
	key=$("$work/commons" admin create-api-key --service "$svc" --type team --name bench | sed -E 's/.*"key":"([^"]+)".*/\1/')
	secret=${key: -36}

	start=$(date +%s%N)
	"$work/commons" serve --addr 127.0.0.1:18080 --log-level warn 2>"$data/serve.log" >/dev/null & pid=$!; pids+=($pid)
	wait_ready http://127.0.0.1:18080
	ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep 5
	idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

	echo "## $engine: start to ready ${ready_ms} ms (including process start), idle RSS $((idle_rss / 1024)) MB"
	for round in $(seq 1 "$ROUNDS"); do
		bare=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency http://127.0.0.1:18090/api/platform/v1/whoami)
		token=$(jwt "$svc" "$secret")
		ours=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" http://127.0.0.1:18080/api/platform/v1/whoami)
		if grep -q "Non-2xx" <<<"$ours"; then echo "bench: commons answered errors:"; echo "$ours"; exit 1; fi
		b=$(rps <<<"$bare"); o=$(rps <<<"$ours")
		printf 'round %d: bare %s req/s (p99 %s), commons %s req/s (p99 %s), ratio %.2f\n' \
			"$round" "$b" "$(p99 <<<"$bare")" "$o" "$(p99 <<<"$ours")" "$(echo "$o / $b" | bc -l)"
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
	[ "$engine" = postgres ] && psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
done
