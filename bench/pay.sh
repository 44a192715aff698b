#!/usr/bin/env bash
# Load-tests POST /v1/payments on a live commons binary, on each engine, side by side with the
# bare baseline in bench/pay-bare (decode the same JSON, insert one row into the same kind of
# database). Loopback only; every run is bounded.
#
#   bench/pay.sh                 # both engines (PostgreSQL from COMMONS_TEST_POSTGRES_URL)
#   ENGINES=sqlite bench/pay.sh  # one engine
#   DURATION=10s CONNECTIONS=64 THREADS=2 ROUNDS=3 ROLE=all KEY_TYPE=test bench/pay.sh
#   JOURNEYS=3000 JOURNEY_WORKERS=32 bench/pay.sh   # whole journeys after the rounds; 0 skips
#
# Commons runs in development mode with JSON logs at info level (an access log line per
# request, to a file). ROLE=all (the default) also runs Pay's workers in the same process, as a
# one-node install does; ROLE=api measures an API node alone. KEY_TYPE=test (the default) makes
# sandbox payments. The service's own rate limit is raised so that the bucket never refuses:
# the limiter still takes a token for every request.
#
# Each round measures the bare baseline and Commons one after the other, alternating which goes
# first, and quotes their ratio: on a shared machine only figures from the same moment compare.
# Each side's CPU time per request (from /proc) is printed too, and the load average at the end
# of the round, which says how much else the machine was doing. Any answer but 201 fails the run.
#
# After the rounds, bench/pay-journey runs JOURNEYS whole sandbox journeys against the same
# server (create, next_url, card form, confirm, GET), JOURNEY_WORKERS at once, and prints
# journeys a second and Commons' CPU time per journey.
#
# Ports are picked at random from 30000-34999, away from bench/notify.sh's 20000-29999, so that
# both can run on one machine at once.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ROLE=${ROLE:-all}
KEY_TYPE=${KEY_TYPE:-test}
JOURNEYS=${JOURNEYS:-3000}
JOURNEY_WORKERS=${JOURNEY_WORKERS:-32}
ENGINES=${ENGINES:-sqlite postgres}
PG_URL=${COMMONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
pg_names=()
psql_quiet() { PGOPTIONS='--client-min-messages=warning' psql "$PG_URL" -qc "$1" >/dev/null; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "${pg_names[@]}"; do psql_quiet "DROP DATABASE IF EXISTS $n WITH (FORCE)" || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/commons" ./cmd/commons
go build -o "$work/bare" ./bench/pay-bare
go build -o "$work/journey" ./bench/pay-journey

free_port() {
	local p
	for p in $(shuf -i 30000-34999 -n 100); do
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	echo "bench: no free port found" >&2
	exit 1
}

wait_http() { # url
	for _ in $(seq 1 1000); do curl -s -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.01; done
	echo "bench: $1 not answering" >&2
	exit 1
}
rps() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '/ 99%/ {print $2}'; }
total() { awk '/requests in/ {print $1}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# post.lua sends the same create request on every connection. wrk reports any answer of 400 or
# more as "Non-2xx"; load treats that as a failed run, and the count of stored payments at the
# end checks that every answer was a created payment.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
local key = os.getenv("BENCH_KEY")
if key ~= nil and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
LUA
export BENCH_BODY='{"amount":1450,"reference":"BENCH-1","description":"Bench payment","return_url":"https://service.example.gov.uk/done"}'

# load runs wrk against one server and prints "req/s p99 cpu-µs-per-request".
load() { # pid url [key]
	local pid=$1 url=$2 before out n
	before=$(cpu_ticks "$pid")
	out=$(BENCH_KEY=${3:-} wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/post.lua" "$url/v1/payments")
	if grep -q "Non-2xx" <<<"$out"; then
		echo "bench: $url answered errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	n=$(total <<<"$out")
	echo "$n" >>"$work/sent.$pid"
	printf '%s %s %.1f\n' "$(rps <<<"$out")" "$(p99 <<<"$out")" \
		"$(echo "($(cpu_ticks "$pid") - $before) * 1000000 / $hz / $n" | bc -l)"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GB memory, Linux $(uname -r), $(go version | cut -d' ' -f3)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds per engine; commons serve --dev --role $ROLE, $KEY_TYPE key; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for engine in $ENGINES; do
	data="$work/$engine"
	mkdir -p "$data"
	if [ "$engine" = sqlite ]; then
		url="sqlite:$data/commons.db"
		bare_url="sqlite:$data/bare.db"
	else
		name="commons_bench_pay_$$"
		pg_names+=("$name" "${name}_bare")
		psql_quiet "CREATE DATABASE $name"
		psql_quiet "CREATE DATABASE ${name}_bare"
		url=$(sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$name#" <<<"$PG_URL")
		bare_url=$(sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1${name}_bare#" <<<"$PG_URL")
	fi
	export COMMONS_DATABASE_URL="$url" COMMONS_DATA_DIR="$data"
	"$work/commons" migrate >/dev/null
	svc=$("$work/commons" admin create-service --live --name "Bench $engine" | sed -E 's/.*"id":"([^"]+)".*/\1/')
	key=$("$work/commons" admin create-api-key --service "$svc" --type "$KEY_TYPE" --name bench | sed -E 's/.*"key":"([^"]+)".*/\1/')
	# A limit of a million a second: the bucket never refuses, but every request still takes
	# its token.
	limits="INSERT INTO pay_settings (service_id, rate_limit, updated_at)
		VALUES ('$svc', 1000000, '$(date -u '+%Y-%m-%d %H:%M:%S')')"
	if [ "$engine" = sqlite ]; then sqlite3 "$data/commons.db" "$limits"; else psql "$url" -qc "$limits" >/dev/null; fi

	port=$(free_port)
	ours_url=http://127.0.0.1:$port
	"$work/commons" serve --dev --role "$ROLE" --addr "127.0.0.1:$port" --log-format json --log-level info \
		2>"$data/commons.log" >/dev/null &
	pid=$!
	pids+=("$pid")
	wait_http "$ours_url/readyz"
	bare_port=$(free_port)
	bare_url_http=http://127.0.0.1:$bare_port
	"$work/bare" -addr "127.0.0.1:$bare_port" -database "$bare_url" 2>"$data/bare.log" &
	bare_pid=$!
	pids+=("$bare_pid")
	wait_http "$bare_url_http/"

	check=$(curl -s -o "$work/check.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
		-H 'Content-Type: application/json' -d "$BENCH_BODY" "$ours_url/v1/payments")
	[ "$check" = 201 ] || { echo "bench: create answered $check: $(cat "$work/check.json")" >&2; exit 1; }

	echo "## $engine"
	ratios=()
	for round in $(seq 1 "$ROUNDS"); do
		if ((round % 2)); then
			bare=$(load "$bare_pid" "$bare_url_http")
			ours=$(load "$pid" "$ours_url" "$key")
		else
			ours=$(load "$pid" "$ours_url" "$key")
			bare=$(load "$bare_pid" "$bare_url_http")
		fi
		read -r b_rps b_p99 b_cpu <<<"$bare"
		read -r o_rps o_p99 o_cpu <<<"$ours"
		ratio=$(printf '%.2f' "$(echo "$o_rps / $b_rps" | bc -l)")
		ratios+=("$ratio")
		printf 'round %d: bare %s req/s (p99 %s, %s µs CPU/req), commons %s req/s (p99 %s, %s µs CPU/req), ratio %s; load %s\n' \
			"$round" "$b_rps" "$b_p99" "$b_cpu" "$o_rps" "$o_p99" "$o_cpu" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
	done
	echo "median ratio: $(printf '%s\n' "${ratios[@]}" | median)"
	if [ "$JOURNEYS" -gt 0 ]; then
		before=$(cpu_ticks "$pid")
		"$work/journey" -url "$ours_url" -key "$key" -journeys "$JOURNEYS" -workers "$JOURNEY_WORKERS"
		printf 'commons CPU per journey: %.0f µs; load %s\n' \
			"$(echo "($(cpu_ticks "$pid") - $before) * 1000000 / $hz / $JOURNEYS" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
	fi
	if [ "$engine" = sqlite ]; then
		count() { sqlite3 "$data/commons.db" "$1"; }
	else
		count() { psql "$url" -tAc "$1"; }
	fi
	stored=$(count 'SELECT count(*) FROM pay_payments')
	sent=$(awk -v j="$JOURNEYS" '{n += $1} END {print n + 1 + j}' "$work/sent.$pid") # + the check request and journeys
	echo "stored: $stored payments for $sent requests, $(count 'SELECT count(*) FROM pay_events') events," \
		"$(count 'SELECT count(*) FROM pay_tokens') tokens; access log $(grep -c '"msg":"request"' "$data/commons.log") lines"
	# wrk counts requests it sent; a few in flight when a round ends are answered after it.
	if [ "$stored" -lt "$sent" ]; then
		echo "bench: $sent requests but only $stored payments: some answers were not created payments" >&2
		exit 1
	fi
	kill "$pid" "$bare_pid"
	wait "$pid" "$bare_pid" 2>/dev/null || true
done
