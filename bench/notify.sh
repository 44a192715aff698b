#!/usr/bin/env bash
# Load-tests POST /v2/notifications/email on a live commons binary, on each engine, side by
# side with the bare baseline in bench/notify-bare (decode the same JSON, insert one row into
# the same kind of database). Loopback only; every run is bounded.
#
#   bench/notify.sh                 # both engines (PostgreSQL from COMMONS_TEST_POSTGRES_URL)
#   ENGINES=sqlite bench/notify.sh  # one engine
#   DURATION=10s CONNECTIONS=64 THREADS=2 ROUNDS=3 ROLE=all KEY_TYPE=test bench/notify.sh
#
# Commons runs in development mode with JSON logs at info level (an access log line per
# request, to a file). ROLE=all (the default) also runs the delivery workers in the same
# process, as a one-node install does; ROLE=api measures an API node alone. KEY_TYPE=test
# (the default) sends with a test key, whose deliveries are simulated; KEY_TYPE=live delivers
# every email to the development outbox. The service's rate limit is raised so that the
# bucket never refuses: the limiter still takes a token for every request.
#
# Each round measures the bare baseline and Commons one after the other, alternating which
# goes first, and quotes their ratio: on a shared machine only figures from the same moment
# compare. Each side's CPU time per request (from /proc) is printed too, and the load average
# at the end of the round, which says how much else the machine was doing.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ROLE=${ROLE:-all}
KEY_TYPE=${KEY_TYPE:-test}
ENGINES=${ENGINES:-sqlite postgres}
PG_URL=${COMMONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }
secs=${DURATION%s}
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -gt 25 ]; then
	echo "bench: DURATION must be whole seconds, at most 25s (a token's iat must stay within 30 s)" >&2
	exit 2
fi

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
go build -o "$work/bare" ./bench/notify-bare

# free_port picks a loopback port nothing listens on, so that runs beside other servers on
# the same machine do not collide.
free_port() {
	local p
	for p in $(shuf -i 20000-29999 -n 100); do
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

jwt() { # service id, secret → a Notify-style HS256 token with iat = now
	local enc='base64 -w0' header payload sig
	header=$(printf '{"alg":"HS256","typ":"JWT"}' | $enc | tr '+/' '-_' | tr -d '=')
	payload=$(printf '{"iss":"%s","iat":%d}' "$1" "$(date +%s)" | $enc | tr '+/' '-_' | tr -d '=')
	sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$2" -binary | $enc | tr '+/' '-_' | tr -d '=')
	printf '%s.%s.%s' "$header" "$payload" "$sig"
}

# post.lua sends the same email request on every connection. wrk reports any answer of 400
# or more as "Non-2xx"; load treats that as a failed run.
cat >"$work/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
EOF

# load runs wrk against one server and prints "req/s p99 cpu-µs-per-request".
load() { # pid url [token]
	local pid=$1 url=$2 before out n
	before=$(cpu_ticks "$pid")
	out=$(BENCH_TOKEN=${3:-} wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/post.lua" "$url/v2/notifications/email")
	if grep -q "Non-2xx" <<<"$out"; then
		echo "bench: $url answered errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	n=$(total <<<"$out")
	printf '%s %s %.1f\n' "$(rps <<<"$out")" "$(p99 <<<"$out")" \
		"$(echo "($(cpu_ticks "$pid") - $before) * 1000000 / $hz / $n" | bc -l)"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GB memory, Linux $(uname -r), $(go version | cut -d' ' -f3)"
echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds per engine; commons serve --dev --role $ROLE, $KEY_TYPE key"
for engine in $ENGINES; do
	data="$work/$engine"
	mkdir -p "$data"
	if [ "$engine" = sqlite ]; then
		url="sqlite:$data/commons.db"
		bare_url="sqlite:$data/bare.db"
	else
		name="commons_bench_notify_$$"
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
	admin_key=$("$work/commons" admin create-api-key --service "$svc" --type team --name templates | sed -E 's/.*"key":"([^"]+)".*/\1/')
	secret=${key: -36}
	# A limit of 100 million a minute: the bucket holds 1,000 tokens and refills at 1.7
	# million a second, so it never refuses, but every request still takes its token.
	limits="INSERT INTO notify_settings (service_id, rate_limit, email_daily_limit, updated_at)
		VALUES ('$svc', 100000000, 1000000000, '$(date -u '+%Y-%m-%d %H:%M:%S')')"
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

	template=$(curl -fsS -X POST -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
		-d '{"name":"Bench","type":"email","subject":"Hello ((name))","content":"Dear ((name)),\n\nYour application has been received."}' \
		"$ours_url/api/notify/v1/templates" | sed -E 's/.*"id":"([^"]+)".*/\1/')
	export BENCH_BODY="{\"email_address\":\"x@example.com\",\"template_id\":\"$template\",\"personalisation\":{\"name\":\"x\"}}"
	check=$(curl -s -o "$work/check.json" -w '%{http_code}' -H "Authorization: Bearer $(jwt "$svc" "$secret")" \
		-H 'Content-Type: application/json' -d "$BENCH_BODY" "$ours_url/v2/notifications/email")
	[ "$check" = 201 ] || { echo "bench: send answered $check: $(cat "$work/check.json")" >&2; exit 1; }

	echo "## $engine"
	ratios=()
	for round in $(seq 1 "$ROUNDS"); do
		token=$(jwt "$svc" "$secret")
		if ((round % 2)); then
			bare=$(load "$bare_pid" "$bare_url_http")
			ours=$(load "$pid" "$ours_url" "$token")
		else
			ours=$(load "$pid" "$ours_url" "$token")
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
	if [ "$engine" = sqlite ]; then
		count() { sqlite3 "$data/commons.db" "$1"; }
	else
		count() { psql "$url" -tAc "$1"; }
	fi
	echo "stored: $(count 'SELECT count(*) FROM notify_notifications') notifications," \
		"$(count "SELECT count(*) FROM river_job WHERE kind IN ('notify.deliver', 'notify.deliver_batch')") delivery jobs," \
		"$(count 'SELECT coalesce(sum(sent), 0) FROM notify_daily_counts') counted today"
	kill "$pid" "$bare_pid"
	wait "$pid" "$bare_pid" 2>/dev/null || true
done
