#!/usr/bin/env bash
# Load-tests an authenticated no-op request (JWT verification + key resolution) on a live
# commons binary, on each engine, side by side with the bare baseline in bench/bare, and
# measures start-to-ready time and idle memory. Loopback only; every run is bounded.
#
#   bench/run.sh                 # both engines (PostgreSQL from COMMONS_TEST_POSTGRES_URL)
#   ENGINES=sqlite bench/run.sh  # one engine
#   DURATION=10s CONNECTIONS=64 THREADS=2 ROUNDS=3 STARTS=5 bench/run.sh
#
# Commons runs as it would in production: JSON logs at info level, so every request writes
# its access log line (to a file in the work folder). Each round measures the bare baseline
# and Commons one after the other, alternating which goes first, and quotes their ratio: on a
# shared machine only figures from the same moment compare. Each side's CPU time per request
# (from /proc) is printed too; it depends much less on what else the machine is doing.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
STARTS=${STARTS:-5}
ENGINES=${ENGINES:-sqlite postgres}
PG_URL=${COMMONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }
# A token's iat must stay within 30 seconds of the server's clock, and one token serves a
# whole wrk run.
secs=${DURATION%s}
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -gt 25 ]; then
	echo "bench: DURATION must be whole seconds, at most 25s (a token's iat must stay within 30 s)" >&2
	exit 2
fi

work=$(mktemp -d)
pids=()
pg_name=""
psql_quiet() { PGOPTIONS='--client-min-messages=warning' psql "$PG_URL" -qc "$1" >/dev/null; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "$pg_name" ]; then psql_quiet "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/commons" ./cmd/commons
go build -o "$work/bare" ./bench/bare

# wait_ready polls /readyz every 10 ms for up to 10 s.
wait_ready() {
	for _ in $(seq 1 1000); do curl -fs "$1/readyz" >/dev/null 2>&1 && return 0; sleep 0.01; done
	echo "bench: $1 not ready" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
rps() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '/ 99%/ {print $2}'; }
total() { awk '/requests in/ {print $1}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

jwt() { # service id, secret → a Notify-style HS256 token with iat = now
	local enc='base64 -w0' header payload sig
	header=$(printf '{"alg":"HS256","typ":"JWT"}' | $enc | tr '+/' '-_' | tr -d '=')
	payload=$(printf '{"iss":"%s","iat":%d}' "$1" "$(date +%s)" | $enc | tr '+/' '-_' | tr -d '=')
	sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$2" -binary | $enc | tr '+/' '-_' | tr -d '=')
	printf '%s.%s.%s' "$header" "$payload" "$sig"
}

# load runs wrk against one server and prints "req/s p99 cpu-µs-per-request".
load() { # pid url [header]
	local pid=$1 url=$2 before out n
	shift 2
	before=$(cpu_ticks "$pid")
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
	if grep -q "Non-2xx" <<<"$out"; then echo "bench: $url answered errors:" >&2; echo "$out" >&2; exit 1; fi
	n=$(total <<<"$out")
	printf '%s %s %.1f\n' "$(rps <<<"$out")" "$(p99 <<<"$out")" \
		"$(echo "($(cpu_ticks "$pid") - $before) * 1000000 / $hz / $n" | bc -l)"
}

"$work/bare" -addr 127.0.0.1:18090 & bare_pid=$!
pids+=("$bare_pid")
for _ in $(seq 1 500); do curl -fs http://127.0.0.1:18090/api/platform/v1/whoami >/dev/null 2>&1 && break; sleep 0.01; done

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GB memory, Linux $(uname -r), $(go version | cut -d' ' -f3)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds per engine; $STARTS starts for start-to-ready"
for engine in $ENGINES; do
	data="$work/$engine"
	mkdir -p "$data"
	if [ "$engine" = sqlite ]; then
		url="sqlite:$data/commons.db"
	else
		pg_name="commons_bench_$$"
		psql_quiet "CREATE DATABASE $pg_name"
		url=$(sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$pg_name#" <<<"$PG_URL")
	fi
	export COMMONS_DATABASE_URL="$url" COMMONS_DATA_DIR="$data"
	"$work/commons" migrate >/dev/null
	svc=$("$work/commons" admin create-service --name "Bench $engine" | sed -E 's/.*"id":"([^"]+)".*/\1/')
	key=$("$work/commons" admin create-api-key --service "$svc" --type team --name bench | sed -E 's/.*"key":"([^"]+)".*/\1/')
	secret=${key: -36}

	# Start to ready: from just before the process starts to the first 200 from /readyz, over
	# several starts of an already migrated database. The binary's own figure (from the start
	# of main's serve to the listener being up, logged as startup_ms) is shown beside it.
	echo "## $engine"
	for start_round in $(seq 1 "$STARTS"); do
		log="$data/start-$start_round.log"
		start=$(now_ms)
		"$work/commons" serve --addr 127.0.0.1:18080 2>"$log" >/dev/null &
		pid=$!
		pids+=("$pid")
		wait_ready http://127.0.0.1:18080
		ready_ms=$(($(now_ms) - start))
		own_ms=$(sed -nE 's/.*"msg":"commons is ready".*"startup_ms":([0-9]+).*/\1/p' "$log")
		if [ "$start_round" -lt "$STARTS" ]; then
			kill "$pid"
			wait "$pid" 2>/dev/null || true
		fi
		echo "start $start_round: ready in ${ready_ms} ms (binary's own startup_ms ${own_ms:-?})"
	done
	# The last start stays up: idle memory a few seconds after ready, before any load.
	sleep 5
	echo "idle RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$pid/status")"

	token=$(jwt "$svc" "$secret")
	check=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" http://127.0.0.1:18080/api/platform/v1/whoami)
	[ "$check" = 200 ] || { echo "bench: whoami answered $check" >&2; exit 1; }
	ratios=()
	for round in $(seq 1 "$ROUNDS"); do
		token=$(jwt "$svc" "$secret")
		if ((round % 2)); then
			bare=$(load "$bare_pid" http://127.0.0.1:18090/api/platform/v1/whoami)
			ours=$(load "$pid" http://127.0.0.1:18080/api/platform/v1/whoami -H "Authorization: Bearer $token")
		else
			ours=$(load "$pid" http://127.0.0.1:18080/api/platform/v1/whoami -H "Authorization: Bearer $token")
			bare=$(load "$bare_pid" http://127.0.0.1:18090/api/platform/v1/whoami)
		fi
		read -r b_rps b_p99 b_cpu <<<"$bare"
		read -r o_rps o_p99 o_cpu <<<"$ours"
		ratio=$(printf '%.2f' "$(echo "$o_rps / $b_rps" | bc -l)")
		ratios+=("$ratio")
		printf 'round %d: bare %s req/s (p99 %s, %s µs CPU/req), commons %s req/s (p99 %s, %s µs CPU/req), ratio %s\n' \
			"$round" "$b_rps" "$b_p99" "$b_cpu" "$o_rps" "$o_p99" "$o_cpu" "$ratio"
	done
	echo "median ratio: $(printf '%s\n' "${ratios[@]}" | median)"
	echo "RSS after load: $(awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$pid/status")," \
		"access log: $(grep -c '"msg":"request"' "$data/start-$STARTS.log") lines"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	if [ "$engine" = postgres ]; then
		psql_quiet "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)"
		pg_name=""
	fi
done
