#!/usr/bin/env bash
# Tandem test network: builds the reference WireGuard point-to-site topology from network
# namespaces, breaks it the way a scenario says, captures both ends during one test
# connection, and tears everything down again.
#
#   lab.sh [--out DIR] SCENARIO...      one capture set per scenario into DIR/SCENARIO/
#   lab.sh [--out DIR] all              every scenario listed in scenarios.json
#   lab.sh [--out DIR] --bulk [MB]      large download for benchmark captures (snaplen 96)
#   lab.sh --list                       scenario names
#
# Topology (addresses as in the domain primer; they exist only inside the namespaces):
#
#   Endpoint A            NAT router               "Internet"          Host beta                Endpoint B
#   wlan0 192.168.1.11 -- lan0 192.168.1.1                             eth1 192.168.200.2 ----- eth0 192.168.200.22:80
#   wg0 10.0.0.1:51821     wan0 198.51.100.1 ---- 198.51.100.2          wg0 10.0.0.2:51822
#                                                 203.0.113.1 -------- eth0 203.0.113.2
#
# Needs root, ip, nft, wireguard-go, wg, dumpcap, tcpdump, curl, node, python3 (the noise scenarios) and
# busybox (or python3) for the web server.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${TANDEM_LAB_OUT:-/tmp/tandem-lab}
BULK=0
BULK_MB=400

# Unique per network so parallel labs never share namespace or control-socket names.
new_id() {
  while :; do
    ID=$(printf '%04x%02x' $(($$ & 0xffff)) $((RANDOM & 0xff)))
    NS_A=tdm-$ID-a; NS_R=tdm-$ID-r; NS_I=tdm-$ID-i; NS_B=tdm-$ID-b; NS_S=tdm-$ID-s
    WG_A=tdm${ID}a; WG_B=tdm${ID}b
    [ -e "/run/netns/$NS_A" ] || [ -e "/var/run/wireguard/$WG_A.sock" ] || break
  done
}
new_id

LAB_TAG=lab
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# wireguard-go's control sockets live outside the namespaces.
lab_extra_cleanup() { rm -f "/var/run/wireguard/$WG_A.sock" "/var/run/wireguard/$WG_B.sock"; }

# ---------------------------------------------------------------------------------------
# Scenario knobs. Defaults give the healthy network; each fault changes one or two.
set_scenario() {
  A_SPLIT_ROUTE=1        # A routes 192.168.200.0/24 into wg0 and allows it for the peer
  A_ENDPOINT=1           # A's peer has an Endpoint
  B_PEER_KEY=right       # beta knows A's real public key
  B_ALLOWED=10.0.0.1/32  # beta's AllowedIPs for A
  B_FORWARD=1            # ip_forward on beta
  B_MASQ=1               # beta masquerades out eth1
  S_DEFROUTE=1           # Endpoint B has a route back through beta
  A_NFT_INPUT=""         # extra rules in A's input chain
  R_NFT_FORWARD=""       # extra rules in the NAT router's forward chain
  I_NFT_OUTPUT=""        # extra rules in the Internet router's output chain
  B_NFT_FORWARD=""       # extra rules in beta's forward chain
  S_NFT_INPUT=""         # extra rules in Endpoint B's own input chain
  A_EP_PORT=51822        # the port of A's Endpoint for the peer (beta listens on 51822)
  B_WG=1                 # WireGuard runs on beta (0: no wg0 there at all)
  V6_NOISE=0             # IPv6 link-local chatter (DAD, MLD, RS) on A's wg0 and wlan0 before the test connection
  V4_NOISE=0             # IPv4 multicast/broadcast chatter (mDNS, LLMNR, DHCP) on A's wg0 and wlan0 before it
  B_NFLOG=""             # NFLOG groups "CAPTURED SEPARATE": beta's dumpcap also reads nflog:CAPTURED,
                         # and tcpdump writes nflog:SEPARATE to B-nflog.pcap
  LATE_PINGS=0           # seconds after the test connection at which each host pings a LAN neighbour
                         # (traffic seen by one host only, which stretches the capture)
  CLOCK_SET=""           # after the run: copies of B with these clock cases (see clock_copies)
  PATH_MTU=1500          # MTU of the link between the NAT router and the Internet
  URL_PATH=/             # what A fetches
  CURL_MAX=3             # curl's overall time limit, seconds
  CURL_EXTRA=()          # more curl options
  TAIL_WAIT=1            # seconds of capture after the connection ended
  case "$1" in
    healthy) ;;
    clock-base)
      # A slow download spreads the flow over ~15 s so clock skew becomes measurable.
      URL_PATH=/medium.bin; CURL_MAX=40; CURL_EXTRA=(--limit-rate 12k); CLOCK_SET=base ;;
    a-no-route) A_SPLIT_ROUTE=0 ;;
    a-no-endpoint) A_ENDPOINT=0 ;;
    path-drop-udp)
      # Long enough for wireguard-go's retry (~5 s): A2 repeats with no A3.
      R_NFT_FORWARD='udp dport 51822 drop'; CURL_MAX=7 ;;
    b-wrong-key) B_PEER_KEY=wrong ;;
    a-input-drop)
      # Two handshake rounds (wireguard-go retries after ~5 s) show A2/A3 alternating.
      A_NFT_INPUT='udp sport 51822 drop'; CURL_MAX=7 ;;
    b-allowedips) B_ALLOWED=10.0.0.99/32 ;;
    b-no-forward) B_FORWARD=0 ;;
    b-fwd-reject) B_NFT_FORWARD='iifname "wg0" oifname "eth1" reject with icmp type admin-prohibited' ;;
    lan-no-return) B_MASQ=0; S_DEFROUTE=0 ;;
    b-drop-established-reply) B_NFT_FORWARD='iifname "eth1" oifname "wg0" ct state established drop' ;;
    mtu-blackhole)
      # The WAN leg carries 1400 bytes; the Internet router's "fragmentation needed" never leaves it.
      PATH_MTU=1400; URL_PATH=/big.bin; CURL_MAX=4
      I_NFT_OUTPUT='icmp type destination-unreachable icmp code frag-needed drop' ;;
    target-host-firewall)
      # Endpoint B's own input chain drops the SYN without a word: beta forwards it (B5), no reply.
      S_NFT_INPUT='tcp dport 80 drop' ;;
    wg-closed-port-icmp)
      # A's Endpoint names port 51823; nothing listens there on beta, whose kernel answers every
      # initiation with ICMP port unreachable (translated back through the NAT router to A).
      A_EP_PORT=51823; CURL_MAX=7 ;;
    wg-down-icmp)
      # The neighbour of wg-closed-port-icmp with the fault on beta: WireGuard is not running there
      # (no wg0), so the right port 51822 is closed and answered with ICMP port unreachable.
      B_WG=0; CURL_MAX=7 ;;
    path-reject-icmp)
      # The neighbour of path-drop-udp with evidence: the NAT router rejects UDP to 51822 with ICMP
      # administratively prohibited, so A hears who refused its initiation.
      R_NFT_FORWARD='udp dport 51822 reject with icmp type admin-prohibited'; CURL_MAX=7 ;;
    ipv6-linklocal-noise) V6_NOISE=1 ;;
    ipv6-linklocal-noise-b-no-forward) V6_NOISE=1; B_FORWARD=0 ;;
    mcast-noise) V4_NOISE=1 ;;
    b-fwd-nflog)
      # beta's forward chain logs wg0 -> eth1 to NFLOG and drops it: one log rule (group 5, which
      # beta's dumpcap reads next to its interfaces), then a log-and-drop rule (group 6, read by a
      # separate `tcpdump -i nflog:6`; one NFLOG group takes one listener).
      B_NFT_FORWARD='iifname "wg0" oifname "eth1" log prefix "tdm-fwd-drop " group 5
    iifname "wg0" oifname "eth1" log prefix "tdm-fwd-drop " group 6 drop'
      B_NFLOG="5 6" ;;
    narrow-window-skew)
      # The test connection takes ~15 ms; 9 s later each host pings a neighbour on its own LAN, which
      # the other host never sees. The capture ends before WireGuard's passive keepalive (10 s after
      # the last data received), which would be one more matched pair. clock_copies then gives B a
      # clock 40 ppm fast.
      LATE_PINGS=9; TAIL_WAIT=9.6; CLOCK_SET=narrow ;;
    bulk) URL_PATH=/bulk.bin; CURL_MAX=600 ;;
    *) die "unknown scenario '$1' (try --list)" ;;
  esac
}

# ---------------------------------------------------------------------------------------
# wgdev NS UNIQUE_NAME: start wireguard-go inside NS. Its control socket is named after the
# interface and lives in the shared /var/run/wireguard, hence the unique name until configured.
wgdev() {
  local ns=$1 name=$2 i
  WG_PROCESS_FOREGROUND=1 ip netns exec "$ns" wireguard-go -f "$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for i in $(seq 100); do
    [ -S "/var/run/wireguard/$name.sock" ] && return 0
    sleep 0.05
  done
  die "wireguard-go did not come up for $name"
}

build() {
  local s=$1
  WORK=$(mktemp -d /tmp/tdm-lab-work.XXXXXX)
  mkns "$NS_A"; mkns "$NS_R"; mkns "$NS_I"; mkns "$NS_B"; mkns "$NS_S"

  veth "$NS_A" wlan0 "$NS_R" lan0
  veth "$NS_R" wan0 "$NS_I" to-r
  veth "$NS_I" to-b "$NS_B" eth0
  veth "$NS_B" eth1 "$NS_S" eth0

  ip -n "$NS_A" addr add 192.168.1.11/24 dev wlan0
  ip -n "$NS_A" route add default via 192.168.1.1

  ip -n "$NS_R" addr add 192.168.1.1/24 dev lan0
  ip -n "$NS_R" addr add 198.51.100.1/24 dev wan0
  ip -n "$NS_R" route add default via 198.51.100.2
  x "$NS_R" sysctl -qw net.ipv4.ip_forward=1

  ip -n "$NS_I" addr add 198.51.100.2/24 dev to-r
  ip -n "$NS_I" addr add 203.0.113.1/24 dev to-b
  x "$NS_I" sysctl -qw net.ipv4.ip_forward=1
  if [ "$PATH_MTU" != 1500 ]; then
    ip -n "$NS_R" link set wan0 mtu "$PATH_MTU"
    ip -n "$NS_I" link set to-r mtu "$PATH_MTU"
  fi

  ip -n "$NS_B" addr add 203.0.113.2/24 dev eth0
  ip -n "$NS_B" route add default via 203.0.113.1
  ip -n "$NS_B" addr add 192.168.200.2/24 dev eth1
  x "$NS_B" sysctl -qw net.ipv4.ip_forward="$B_FORWARD"

  ip -n "$NS_S" addr add 192.168.200.22/24 dev eth0
  [ "$S_DEFROUTE" = 1 ] && ip -n "$NS_S" route add default via 192.168.200.2

  # Firewalls and NAT.
  x "$NS_R" nft -f - <<EOF
table ip lab {
  chain forward {
    type filter hook forward priority 0; policy accept;
    $R_NFT_FORWARD
  }
  chain post {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
}
EOF
  x "$NS_I" nft -f - <<EOF
table ip lab {
  chain output {
    type filter hook output priority 0; policy accept;
    $I_NFT_OUTPUT
  }
}
EOF
  local masq=""
  [ "$B_MASQ" = 1 ] && masq='oifname "eth1" masquerade'
  x "$NS_B" nft -f - <<EOF
table ip lab {
  chain forward {
    type filter hook forward priority 0; policy accept;
    $B_NFT_FORWARD
  }
  chain post {
    type nat hook postrouting priority 100;
    $masq
  }
}
EOF
  x "$NS_A" nft -f - <<EOF
table ip lab {
  chain input {
    type filter hook input priority 0; policy accept;
    $A_NFT_INPUT
  }
}
EOF
  x "$NS_S" nft -f - <<EOF
table ip lab {
  chain input {
    type filter hook input priority 0; policy accept;
    $S_NFT_INPUT
  }
}
EOF

  # WireGuard keys. A "wrong" key on beta is a valid key that belongs to nobody.
  umask 077
  wg genkey >"$WORK/a.key"; wg pubkey <"$WORK/a.key" >"$WORK/a.pub"
  wg genkey >"$WORK/b.key"; wg pubkey <"$WORK/b.key" >"$WORK/b.pub"
  wg genkey | wg pubkey >"$WORK/stranger.pub"
  umask 022
  local a_pub b_pub
  a_pub=$(cat "$WORK/a.pub"); b_pub=$(cat "$WORK/b.pub")
  [ "$B_PEER_KEY" = wrong ] && a_pub=$(cat "$WORK/stranger.pub")

  wgdev "$NS_A" "$WG_A"
  [ "$B_WG" = 1 ] && wgdev "$NS_B" "$WG_B"

  local a_allowed=10.0.0.0/24 a_ep=()
  [ "$A_SPLIT_ROUTE" = 1 ] && a_allowed=10.0.0.0/24,192.168.200.0/24
  [ "$A_ENDPOINT" = 1 ] && a_ep=(endpoint "203.0.113.2:$A_EP_PORT")
  x "$NS_A" wg set "$WG_A" private-key "$WORK/a.key" listen-port 51821 \
    peer "$b_pub" "${a_ep[@]}" allowed-ips "$a_allowed"
  if [ "$B_WG" = 1 ]; then
    x "$NS_B" wg set "$WG_B" private-key "$WORK/b.key" listen-port 51822 \
      peer "$a_pub" allowed-ips "$B_ALLOWED"
  fi

  # Configured through the unique sockets; now give both devices their real name.
  ip -n "$NS_A" link set "$WG_A" name wg0
  ip -n "$NS_A" addr add 10.0.0.1/24 dev wg0
  ip -n "$NS_A" link set wg0 up
  [ "$A_SPLIT_ROUTE" = 1 ] && ip -n "$NS_A" route add 192.168.200.0/24 dev wg0
  if [ "$B_WG" = 1 ]; then
    ip -n "$NS_B" link set "$WG_B" name wg0
    ip -n "$NS_B" addr add 10.0.0.2/24 dev wg0
    ip -n "$NS_B" link set wg0 up
  fi

  # Endpoint B's web content: a small page, a medium file for slow downloads, a large one.
  mkdir -p "$WORK/www"
  printf '<html><body>Tandem lab: endpoint B</body></html>\n' >"$WORK/www/index.html"
  head -c 300000 /dev/zero | tr '\0' 'm' >"$WORK/www/medium.bin"
  head -c 200000 /dev/zero | tr '\0' 'b' >"$WORK/www/big.bin"
  [ "$BULK" = 1 ] && truncate -s "${BULK_MB}M" "$WORK/www/bulk.bin"
  web_server "$NS_S" 192.168.200.22
}

run_scenario() {
  local s=$1 dir=$2
  set_scenario "$s"
  log "scenario $s -> $dir"
  build "$s"
  rm -rf "$dir"; mkdir -p "$dir"
  local snap=() buf=()
  if [ "$BULK" = 1 ]; then snap=(-s 96); buf=(-B 64); fi

  capture "$NS_A" capA dumpcap -q "${snap[@]}" "${buf[@]}" -i wg0 -i wlan0 -w "$dir/A.pcapng"
  local b_log=() nfl_cap nfl_sep
  if [ -n "$B_NFLOG" ]; then
    read -r nfl_cap nfl_sep <<<"$B_NFLOG"
    b_log=(-i "nflog:$nfl_cap")
    capture "$NS_B" capB-nflog tcpdump -i "nflog:$nfl_sep" -U -w "$dir/B-nflog.pcap"
  fi
  local b_ifs=(-i eth0 -i wg0 -i eth1)
  [ "$B_WG" = 1 ] || b_ifs=(-i eth0 -i eth1)
  capture "$NS_B" capB dumpcap -q "${snap[@]}" "${buf[@]}" "${b_ifs[@]}" "${b_log[@]}" -w "$dir/B.pcapng"
  if [ "$BULK" = 1 ]; then
    # SLL2 copies too: tcpdump cannot read a pcapng whose interfaces differ in link type, and the
    # benchmark compares against tcpdump on the very same files.
    capture "$NS_A" capA-any tcpdump -i any -s 96 -B 65536 -w "$dir/A-any.pcap"
    capture "$NS_B" capB-any tcpdump -i any -s 96 -B 65536 -w "$dir/B-any.pcap"
  else
    capture_any_text "$dir"
  fi
  save_links "$dir"
  if [ "$V6_NOISE" = 1 ]; then v6_noise; fi
  if [ "$V4_NOISE" = 1 ]; then v4_noise; fi
  if [ "$LATE_PINGS" != 0 ]; then
    # Started now, they fire LATE_PINGS seconds later, well after the test connection.
    local ping=ping
    command -v ping >/dev/null || ping="busybox ping"
    x "$NS_A" sh -c "sleep $LATE_PINGS; $ping -c 1 -W 1 192.168.1.1" >/dev/null 2>&1 &
    PIDS+=($!)
    x "$NS_B" sh -c "sleep $LATE_PINGS; $ping -c 1 -W 1 192.168.200.22" >/dev/null 2>&1 &
    PIDS+=($!)
  fi

  fetch "$NS_A" "http://192.168.200.22$URL_PATH" "${CURL_EXTRA[@]}"

  chmod 644 "$dir"/*
  printf '{"scenario":"%s","started":%s,"url":"http://192.168.200.22%s","curl_exit":%d,"curl":"%s","curl_error":"%s"}\n' \
    "$s" "$FETCH_STARTED" "$URL_PATH" "$FETCH_RC" "$FETCH_OUT" "$FETCH_ERR" >"$dir/run.json"
  log "scenario $s: curl exit $FETCH_RC ($FETCH_OUT) $FETCH_ERR"
  teardown
  case "$CLOCK_SET" in
    base) clock_copies "$dir" "${CLOCK_CASES[@]}" ;;
    narrow) clock_copies "$dir" "${NARROW_CASES[@]}" ;;
  esac
}

# v4_noise: name-resolution and address chatter a desktop sends unasked, on A's tunnel and LAN
# interfaces: an mDNS query (224.0.0.251:5353), an LLMNR query (224.0.0.252:5355), both twice, and
# a DHCPINFORM broadcast from the LAN address (port 68 -> 255.255.255.255:67) on wlan0.
v4_noise() {
  ip -n "$NS_A" route add 224.0.0.0/4 dev wlan0 2>/dev/null || true
  x "$NS_A" python3 - <<'PY'
import socket, struct, sys, time
def dns_query(name, qtype=1):
    q = b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    return struct.pack('!HHHHHH', 0x1d2c, 0, 1, 0, 0, 0) + q + struct.pack('!HH', qtype, 1)
def mcast(ifname, addr, port, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255 if port == 5353 else 1)
    try:
        s.sendto(data, (addr, port))
    except OSError as e:
        print(f'v4 noise: {ifname} -> {addr}:{port}: {e}', file=sys.stderr)
for _ in range(2):
    for ifname in ('wg0', 'wlan0'):
        mcast(ifname, '224.0.0.251', 5353, dns_query('_http._tcp.local', 12))
        mcast(ifname, '224.0.0.252', 5355, dns_query('fileserver'))
    time.sleep(0.2)
# DHCPINFORM: op 1, htype 1, hlen 6, ciaddr = our address, magic cookie, option 53 = 8, end.
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
b.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'wlan0')
b.bind(('192.168.1.11', 68))
mac = bytes.fromhex(open('/sys/class/net/wlan0/address').read().strip().replace(':', ''))
msg = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 0, 0x5eed, 0, 0, socket.inet_aton('192.168.1.11'),
                  bytes(4), bytes(4), bytes(4), mac, bytes(64), bytes(128))
b.sendto(msg + bytes([99, 130, 83, 99, 53, 1, 8, 255]), ('255.255.255.255', 67))
PY
  sleep 0.1
}

# v6_noise: what a host with IPv6 enabled says on its links unasked, on A's tunnel and LAN interfaces:
# duplicate address detection (NS), MLD reports for the solicited-node groups, router solicitations;
# plus one more RS and an MLDv2 report sent by hand, so the chatter is there whatever the kernel's timers do.
v6_noise() {
  local i
  for i in wg0 wlan0; do x "$NS_A" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=0"; done
  ip -n "$NS_A" addr add fe80::a/64 dev wg0
  # DAD, then the kernel's own reports and solicitations: a second or two. A tentative address
  # cannot send, so the hand-made messages wait for it.
  sleep 1
  for i in $(seq 40); do
    ip -n "$NS_A" -6 addr show tentative | grep -q inet6 || break
    sleep 0.1
  done
  x "$NS_A" python3 - <<'PY'
import socket, struct, sys
def send(ifname, data, dst):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255 if data[0] == 133 else 1)
    idx = socket.if_nametoindex(ifname)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    try:
        s.sendto(data, (dst, 0, 0, idx))  # the kernel fills in the ICMPv6 checksum
    except OSError as e:
        print(f'v6 noise: {ifname} -> {dst}: {e}', file=sys.stderr)
for ifname in ('wg0', 'wlan0'):
    send(ifname, struct.pack('!BBHI', 133, 0, 0, 0), 'ff02::2')              # router solicitation
    rec = struct.pack('!BBH16s', 4, 0, 0, socket.inet_pton(socket.AF_INET6, 'ff02::fb'))
    send(ifname, struct.pack('!BBHHH', 143, 0, 0, 0, 1) + rec, 'ff02::16')   # MLDv2 report: joins ff02::fb
PY
  sleep 0.1
}

# Copies of B's captures with a clock that is off by seconds and drifts by tens of ppm, plus the
# applied truth in clock.json. Model: t' = t + offset_s + skew_ppm·1e-6·(t − ref_s), ref_s = A's first packet.
CLOCK_CASES=("fast 3.5 40" "slow -12.25 -30")
# narrow-window-skew: B 0.75 s ahead and 40 ppm fast; its pairs span ~15 ms of a ~10 s capture.
NARROW_CASES=("skew40 0.75 40")
# clock_copies DIR CASE...: each CASE is "name offset_s skew_ppm".
clock_copies() {
  local dir=$1 root name off ppm ref="" entries="" c f; shift
  root=$(cd "$HERE/../.." && pwd)
  for c in "$@"; do
    read -r name off ppm <<<"$c"
    for f in B.pcapng:B-$name.pcapng B-any.pcap:B-any-$name.pcap; do
      ref=$(cd "$root" && node --import tsx test/lab/clock-shift.ts --offset "$off" --skew-ppm "$ppm" \
        --ref-from "$dir/A.pcapng" "$dir/${f%%:*}" "$dir/${f##*:}" | sed -n 's/.*"ref_s":"\([0-9.]*\)".*/\1/p')
    done
    entries+="${entries:+,}
    {\"name\": \"$name\", \"offset_s\": $off, \"skew_ppm\": $ppm, \"pcapng\": \"B-$name.pcapng\", \"any\": \"B-any-$name.pcap\"}"
  done
  cat >"$dir/clock.json" <<EOF
{
  "model": "B copy time = t + offset_s + skew_ppm*1e-6*(t - ref_s); t = original B time (same kernel clock as A)",
  "ref_s": "$ref",
  "cases": [$entries
  ]
}
EOF
  chmod 644 "$dir"/*
  log "clock copies written: $*"
}

# ---------------------------------------------------------------------------------------
main() {
  local names=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) OUT=$2; shift 2 ;;
      --bulk) BULK=1; shift
        if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then BULK_MB=$1; shift; fi ;;
      --list) scenario_names; exit 0 ;;
      -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
      all) mapfile -t names < <(scenario_names); shift ;;
      *) names+=("$1"); shift ;;
    esac
  done
  need_tools ip nft wireguard-go wg dumpcap tcpdump curl node python3
  if [ "$BULK" = 1 ]; then
    new_id
    run_scenario bulk "$OUT/bulk"
    if command -v capinfos >/dev/null; then
      log "bulk packets: $(capinfos -c -M "$OUT/bulk/A.pcapng" "$OUT/bulk/B.pcapng" | sed -n 's/.*Number of packets: *//p' | paste -sd' ')"
    fi
    exit 0
  fi
  run_named "${names[@]}"
}

main "$@"
