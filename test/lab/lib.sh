# Shared plumbing of the test networks (lab.sh, ipsec/lab-ipsec.sh): namespaces and cables,
# the process and namespace bookkeeping with its cleanup trap, logging, the web server on the
# far end, the capture processes and the test fetch. Sourced, never run.
#
# The sourcing script sets HERE (folder of its scenarios.json) and LAB_TAG (log prefix) first,
# and may define lab_extra_cleanup, called by teardown after the namespaces are gone.
# Globals the helpers use: ID, WORK, PIDS, NSES, CAP_PIDS, NS_A, NS_B, CURL_MAX, TAIL_WAIT.

WORK=""
PIDS=()
NSES=()
CAP_PIDS=()

log() { printf '[%s %s] %s\n' "$LAB_TAG" "$ID" "$*" >&2; }
die() { log "error: $*"; exit 1; }

teardown() {
  local p n
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  # Whatever still runs inside our namespaces (e.g. an httpd child stuck on a stalled connection).
  for n in "${NSES[@]}"; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
  if declare -F lab_extra_cleanup >/dev/null; then lab_extra_cleanup; fi
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
  PIDS=(); NSES=(); WORK=""
}
trap teardown EXIT
trap 'exit 130' INT TERM

x() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# The scenarios a lab builds: "scenarios" and "extra" of its scenarios.json (other lists, such as
# "swapped", reuse those captures).
scenario_names() {
  node -e 'const t = require(process.argv[1]); for (const s of [...t.scenarios, ...(t.extra ?? [])]) console.log(s.name);' "$HERE/scenarios.json"
}

# need_tools TOOL...: root and every tool on PATH (or an executable path), else stop.
need_tools() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "missing tool: $t"
  done
}

mkns() {
  ip netns add "$1"
  NSES+=("$1")
  x "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

# veth NS1 IF1 NS2 IF2: one cable between two namespaces (created inside them, never in the root).
veth() {
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

# web_server NS [ADDR]: serve $WORK/www on port 80 (on ADDR only, if given) and wait until it listens.
web_server() {
  local ns=$1 addr=${2:-} i
  if command -v busybox >/dev/null; then
    ip netns exec "$ns" busybox httpd -f -p "${addr:+$addr:}80" -h "$WORK/www" </dev/null >/dev/null 2>&1 &
  else
    local bind=()
    [ -n "$addr" ] && bind=(--bind "$addr")
    ip netns exec "$ns" python3 -m http.server 80 "${bind[@]}" --directory "$WORK/www" </dev/null >/dev/null 2>&1 &
  fi
  PIDS+=($!)
  for i in $(seq 100); do
    x "$ns" ss -Hltn 'sport = :80' | grep -q . && return 0
    sleep 0.05
  done
  die "web server did not start"
}

# capture NS LOGNAME CMD...: start a capture and wait until it really listens.
# CAP_STDOUT names a file for the command's output (the text capture), else it is discarded.
capture() {
  local ns=$1 logf=$WORK/$2.log i; shift 2
  ip netns exec "$ns" "$@" </dev/null >"${CAP_STDOUT:-/dev/null}" 2>"$logf" &
  CAP_PIDS+=($!); PIDS+=($!)
  for i in $(seq 200); do
    grep -qE 'listening on|Capturing on' "$logf" 2>/dev/null && return 0
    sleep 0.05
  done
  cat "$logf" >&2
  die "capture did not start: $*"
}

# capture_any_text DIR: both ends as tcpdump -i any (SLL2) and as the live text a user would
# paste from a remote shell (`tcpdump -n -i any`).
capture_any_text() {
  local dir=$1
  capture "$NS_A" capA-any tcpdump -i any -U -w "$dir/A-any.pcap"
  capture "$NS_B" capB-any tcpdump -i any -U -w "$dir/B-any.pcap"
  CAP_STDOUT=$dir/A.txt capture "$NS_A" txtA tcpdump -n -l -i any
  CAP_STDOUT=$dir/B.txt capture "$NS_B" txtB tcpdump -n -l -i any
}

# save_links DIR: `ip -o link` of both ends, which names the interfaces of the SLL2 captures;
# then a moment for the captures to settle before the test traffic.
save_links() {
  ip -n "$NS_A" -o link >"$1/A-links.txt"
  ip -n "$NS_B" -o link >"$1/B-links.txt"
  sleep 0.3
}

stop_captures() {
  local p
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  CAP_PIDS=()
}

# fetch NS URL [CURL_OPTION...]: the test connection, then TAIL_WAIT more seconds of capture.
# Sets FETCH_STARTED (epoch s), FETCH_RC (curl's exit), FETCH_OUT (code, size, time) and
# FETCH_ERR (curl's message on one line, safe inside a JSON string).
fetch() {
  local ns=$1 url=$2; shift 2
  FETCH_RC=0
  FETCH_STARTED=$(date +%s.%N)
  FETCH_OUT=$(x "$ns" curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
    -m "$CURL_MAX" "$@" "$url" 2>"$WORK/curl.err") || FETCH_RC=$?
  sleep "$TAIL_WAIT"
  stop_captures
  FETCH_ERR=$(tr '\n"\\' '   ' <"$WORK/curl.err")
}

# run_named NAME...: check every name first (set_scenario dies on a typo), then one fresh network
# and one capture set per scenario into $OUT/NAME.
run_named() {
  [ $# -gt 0 ] || die "no scenario given (try --list or all)"
  local n
  for n in "$@"; do set_scenario "$n"; done
  for n in "$@"; do
    new_id
    run_scenario "$n" "$OUT/$n"
  done
}
