#!/usr/bin/env bash
# Tandem IPsec test network: two strongSwan gateways (IKEv2, PSK, userspace ESP through the
# kernel-libipsec TUN device) with a LAN behind each and a NAT router between them, so IKE moves
# to UDP 4500 and ESP travels UDP-encapsulated (NAT-T). Breaks the path the way a scenario says,
# captures both gateways during one test connection and tears everything down again.
#
#   lab-ipsec.sh [--out DIR] SCENARIO...   one capture set per scenario into DIR/SCENARIO/
#   lab-ipsec.sh [--out DIR] all           every scenario listed in scenarios.json
#   lab-ipsec.sh --list                    scenario names
#   lab-ipsec.sh [--out DIR] --checked-in SCENARIO...|all
#                                          refresh the copies kept in the repo (captures/SCENARIO/):
#                                          every input form the tests read, without the daemon logs
#                                          (those stay in DIR when --out is given)
#
# Topology (addresses exist only inside the namespaces):
#
#   client (-c)           gateway A (-a)            NAT router (-r)            gateway B (-b)              server (-s)
#   eth0 10.1.0.11 ────── lan0 10.1.0.1             lan0 192.168.1.1           eth1 10.2.0.1 ───────────── eth0 10.2.0.22:80
#                         wan0 192.168.1.2 ──────── wan0 198.51.100.1 ──────── eth0 198.51.100.2                10.2.1.22:80
#                         ipsec0 (TUN, charon)      (masquerade)               ipsec0 (TUN, charon)
#                                                                              eth1 10.2.1.1
#
# The kernel here has XFRM but no ESP transform, so ESP is done by charon itself (kernel-libipsec):
# the route to the remote subnets points into the TUN device ipsec0 (table 220), charon encrypts
# and sends ESP in UDP 4500 from its IKE socket. Each daemon gets its own strongswan.conf and
# swanctl/ through /etc/netns/NS/ (bind-mounted by `ip netns exec`), a private /run (pid file)
# and a vici socket in the work folder.
#
# Needs root, ip, nft, dumpcap, tcpdump, curl, busybox (or python3), /usr/lib/ipsec/charon, swanctl.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${TANDEM_LAB_OUT:-/tmp/tandem-lab-ipsec}
CHARON=${CHARON:-/usr/lib/ipsec/charon}

new_id() {
  while :; do
    ID=$(printf '%04x%02x' $(($$ & 0xffff)) $((RANDOM & 0xff)))
    NS_C=tdi-$ID-c; NS_A=tdi-$ID-a; NS_R=tdi-$ID-r; NS_B=tdi-$ID-b; NS_S=tdi-$ID-s
    [ -e "/run/netns/$NS_A" ] || [ -e "/etc/netns/$NS_A" ] || break
  done
}
new_id

LAB_TAG=ipsec-lab
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

# Each daemon's configuration lives under /etc/netns/NS, outside the namespace itself.
lab_extra_cleanup() {
  local n
  for n in "${NSES[@]}"; do rm -rf "/etc/netns/$n"; done
}

# ---------------------------------------------------------------------------------------
set_scenario() {
  A_REMOTE_TS=10.2.0.0/24,10.2.1.0/24   # what gateway A tunnels to
  B_LOCAL_TS=10.2.0.0/24,10.2.1.0/24    # what gateway B offers
  A_NAT_TUNNEL=0          # gateway A source-NATs everything that does not go back to its LAN
  S_DEFROUTE=1            # the server routes back through gateway B
  R_NFT_FORWARD=""        # NAT router forward chain
  R_NFT_OUTPUT=""         # NAT router's own output
  R_NFT_RAW=""            # NAT router prerouting before reassembly (conntrack defragments at -400)
  PATH_MTU=1500           # MTU of the gateway A <-> NAT router link
  TARGET=10.2.0.22        # what the client fetches from
  PRE_GET=""              # a host the client fetches from first (one that works)
  A_START=none            # swanctl start_action of A's child SA; "trap" also installs the routes early
  INIT_BG=0               # bring the tunnel up in the background, concurrently with the test connection
  IKE_PROPOSAL=aes128-sha256-modp2048
  B_IKE_PROPOSAL=""       # gateway B's IKE proposal when it differs from A's
  IKE_VERSION=2           # 1: IKEv1 main mode on both gateways
  B_PSK_WRONG=0           # gateway B holds a different pre-shared key than A
  B_REMOTE_TS=10.1.0.0/24 # what gateway B accepts from A's side
  URL_PATH=/
  CURL_MAX=3
  TAIL_WAIT=1
  case "$1" in
    healthy) ;;
    selector-missing)
      # A's child SA covers only 10.2.0.0/24: 10.2.0.22 answers, 10.2.1.22 is routed by the
      # default route out of the WAN in clear and the NAT router has no route for it.
      A_REMOTE_TS=10.2.0.0/24; PRE_GET=10.2.0.22; TARGET=10.2.1.22 ;;
    tunnel-nat)
      # A masquerade-style rule that also catches traffic for the tunnel: the source becomes the
      # WAN address, which no longer matches the local traffic selector, so nothing is encrypted.
      A_NAT_TUNNEL=1 ;;
    return-route-missing) S_DEFROUTE=0 ;;
    ike-blocked)
      # The NAT router drops IKE (UDP 500): A's IKE_SA_INIT repeats and never gets an answer.
      # A trap policy routes the test traffic into ipsec0 although no SA comes up (libipsec raises
      # no acquire, so the exchange is started by swanctl, concurrently with the test connection).
      R_NFT_FORWARD='udp dport 500 drop'; CURL_MAX=7; A_START=trap; INIT_BG=1 ;;
    esp-drop-b-to-a)
      # ESP from B towards A is dropped between the gateways; IKE (non-ESP marker 0) still passes.
      R_NFT_FORWARD='ip saddr 198.51.100.2 udp sport 4500 udp length > 12 @th,64,32 != 0 drop' ;;
    natt-blocked)
      # UDP 500 passes, UDP 4500 does not: IKE_SA_INIT completes, detects the NAT and moves to 4500,
      # where IKE_AUTH repeats unanswered.
      R_NFT_FORWARD='udp dport 4500 drop'; CURL_MAX=7; A_START=trap; INIT_BG=1 ;;
    ike-frag-lost)
      # A 4096-bit DH group makes IKE_SA_INIT ~800 bytes; the gateway A <-> NAT router link has
      # MTU 576, so A sends it as two IP fragments, and the router drops IP fragments.
      IKE_PROPOSAL=aes128-sha256-modp4096; PATH_MTU=576; R_NFT_RAW='ip frag-off & 0x3fff != 0 drop'
      CURL_MAX=7; A_START=trap; INIT_BG=1 ;;
    esp-drop-a-to-b)
      # The same in the other direction: ESP from A towards B is dropped, IKE passes.
      R_NFT_FORWARD='ip daddr 198.51.100.2 udp dport 4500 udp length > 12 @th,64,32 != 0 drop' ;;
    mtu-blackhole)
      # The gateway A <-> NAT router link carries 1400 bytes and the router's own
      # "fragmentation needed" is dropped: full-size ESP from B never reaches A.
      PATH_MTU=1400; URL_PATH=/big.bin; CURL_MAX=4
      R_NFT_OUTPUT='icmp type destination-unreachable icmp code frag-needed drop' ;;
    ikev2-psk-mismatch)
      # IKE_SA_INIT succeeds (the key is not used yet); B cannot verify A's AUTH payload and answers
      # IKE_AUTH with an encrypted AUTHENTICATION_FAILED notify. No CHILD_SA, no ESP.
      B_PSK_WRONG=1; A_START=trap; INIT_BG=1 ;;
    ikev2-proposal-mismatch)
      # Disjoint IKE proposals (cipher, integrity and DH group all differ): B answers IKE_SA_INIT
      # with a clear-text N(NO_PROPOSAL_CHOSEN) and no SA payload.
      B_IKE_PROPOSAL=aes256-sha512-modp3072; A_START=trap; INIT_BG=1 ;;
    ikev2-ts-refused)
      # The IKE SA comes up, but B's remote_ts does not cover A's LAN: the CHILD_SA piggybacked on
      # IKE_AUTH is refused with TS_UNACCEPTABLE, so nothing is ever encrypted.
      B_REMOTE_TS=10.1.99.0/24; A_START=trap; INIT_BG=1 ;;
    ikev1-psk-mismatch)
      # IKEv1 main mode: MI1/MR1, MI2/MR2 pass (on 500, NAT detected), MI3 moves to 4500 and reaches
      # B, which derives different keys, cannot read it and never sends MR3; A repeats MI3.
      IKE_VERSION=1; B_PSK_WRONG=1; CURL_MAX=7; A_START=trap; INIT_BG=1 ;;
    ikev1-natt-4500-blocked)
      # IKEv1 main mode behind the NAT router: MI1..MR2 on UDP 500 detect the NAT, MI3 moves to UDP
      # 4500, which the router drops: MI3 repeats and never reaches B.
      IKE_VERSION=1; R_NFT_FORWARD='udp dport 4500 drop'; CURL_MAX=7; A_START=trap; INIT_BG=1 ;;
    ikev1-proposal-mismatch)
      # The IKEv1 neighbour of ikev2-proposal-mismatch: B answers MI1 with a clear-text
      # informational N(NO_PROPOSAL_CHOSEN) instead of MR1.
      IKE_VERSION=1; B_IKE_PROPOSAL=aes256-sha512-modp3072; A_START=trap; INIT_BG=1 ;;
    ikev1-ts-refused)
      # The IKEv1 neighbour of ikev2-ts-refused: main mode completes, quick mode (QI1) is refused
      # by B's selectors with an encrypted informational; no QR1, no ESP.
      IKE_VERSION=1; B_REMOTE_TS=10.1.99.0/24; CURL_MAX=5; A_START=trap; INIT_BG=1 ;;
    ikev2-invalid-ke-retry)
      # Not a fault: A proposes two DH groups and sends its key share for the first (modp2048), B
      # accepts only the second, answers INVALID_KE_PAYLOAD, and A retries with modp3072: up.
      IKE_PROPOSAL=aes128-sha256-modp2048-modp3072; B_IKE_PROPOSAL=aes128-sha256-modp3072 ;;
    *) die "unknown scenario '$1' (try --list)" ;;
  esac
}

# strongswan NS NAME LOCAL REMOTE LOCAL_ID REMOTE_ID LOCAL_TS REMOTE_TS: config under /etc/netns/NS.
strongswan_conf() {
  local ns=$1 name=$2 la=$3 ra=$4 lid=$5 rid=$6 lts=$7 rts=$8 START=${9:-none}
  local proposal=$IKE_PROPOSAL psk="tandem-lab-psk-$ID"
  if [ "$name" = b ]; then
    [ -n "$B_IKE_PROPOSAL" ] && proposal=$B_IKE_PROPOSAL
    [ "$B_PSK_WRONG" = 1 ] && psk="tandem-lab-other-psk-$ID"
  fi
  local d=/etc/netns/$ns
  mkdir -p "$d/swanctl/conf.d"
  cat >"$d/strongswan.conf" <<EOF
charon {
  # Only what this lab needs; kernel-libipsec does ESP in userspace over a TUN device.
  load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  # Quick IKE retransmissions (1 s, 1.4 s, 2 s, 2.7 s) so a lost exchange shows within seconds.
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 3
  plugins {
    vici { socket = unix://$WORK/$name.vici }
  }
  filelog {
    lab { path = $WORK/charon-$name.log
      time_format = %T
      # Written line by line, so the copy taken while charon still runs is complete.
      flush_line = yes
      default = 1
      ike = 2
      cfg = 2
    }
  }
  syslog { daemon { default = -1 } }
}
swanctl {
  load = pem pkcs1 x509 pubkey random nonce
}
EOF
  cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
  s2s {
    version = $IKE_VERSION
    local_addrs = $la
    remote_addrs = $ra
    proposals = $proposal
    # kernel-libipsec only sends ESP through the IKE socket, i.e. UDP-encapsulated.
    encap = yes
    local { auth = psk
      id = $lid }
    remote { auth = psk
      id = $rid }
    children {
      net {
        local_ts = $lts
        remote_ts = $rts
        esp_proposals = aes128-sha256
        start_action = $START
      }
    }
  }
}
secrets {
  ike-lab { id-a = gwa.lab
    id-b = gwb.lab
    secret = "$psk" }
}
EOF
}

start_charon() {
  local ns=$1 name=$2 i
  # A private /run in the namespace's mount namespace: charon's pid file is not shared.
  ip netns exec "$ns" sh -c 'mount -t tmpfs lab /run && exec "$0"' "$CHARON" >"$WORK/charon-$name.out" 2>&1 &
  PIDS+=($!)
  for i in $(seq 100); do
    [ -S "$WORK/$name.vici" ] && x "$ns" ip link show ipsec0 >/dev/null 2>&1 && break
    sleep 0.05
  done
  [ -S "$WORK/$name.vici" ] || { cat "$WORK/charon-$name.out" >&2; die "charon did not start in $ns"; }
  x "$ns" swanctl --load-all --noprompt --uri "unix://$WORK/$name.vici" >"$WORK/swanctl-$name.log" 2>&1 ||
    { cat "$WORK/swanctl-$name.log" >&2; die "swanctl --load-all failed in $ns"; }
}

build() {
  WORK=$(mktemp -d /tmp/tdi-lab-work.XXXXXX)
  mkns "$NS_C"; mkns "$NS_A"; mkns "$NS_R"; mkns "$NS_B"; mkns "$NS_S"
  veth "$NS_C" eth0 "$NS_A" lan0
  veth "$NS_A" wan0 "$NS_R" lan0
  veth "$NS_R" wan0 "$NS_B" eth0
  veth "$NS_B" eth1 "$NS_S" eth0

  ip -n "$NS_C" addr add 10.1.0.11/24 dev eth0
  ip -n "$NS_C" route add default via 10.1.0.1

  ip -n "$NS_A" addr add 10.1.0.1/24 dev lan0
  ip -n "$NS_A" addr add 192.168.1.2/24 dev wan0
  ip -n "$NS_A" route add default via 192.168.1.1
  x "$NS_A" sysctl -qw net.ipv4.ip_forward=1

  ip -n "$NS_R" addr add 192.168.1.1/24 dev lan0
  ip -n "$NS_R" addr add 198.51.100.1/24 dev wan0
  x "$NS_R" sysctl -qw net.ipv4.ip_forward=1
  if [ "$PATH_MTU" != 1500 ]; then
    ip -n "$NS_A" link set wan0 mtu "$PATH_MTU"
    ip -n "$NS_R" link set lan0 mtu "$PATH_MTU"
  fi

  ip -n "$NS_B" addr add 198.51.100.2/24 dev eth0
  ip -n "$NS_B" addr add 10.2.0.1/24 dev eth1
  ip -n "$NS_B" addr add 10.2.1.1/24 dev eth1
  x "$NS_B" sysctl -qw net.ipv4.ip_forward=1

  ip -n "$NS_S" addr add 10.2.0.22/24 dev eth0
  ip -n "$NS_S" addr add 10.2.1.22/24 dev eth0
  [ "$S_DEFROUTE" = 1 ] && ip -n "$NS_S" route add default via 10.2.0.1

  x "$NS_R" nft -f - <<EOF
table ip lab {
  chain raw {
    type filter hook prerouting priority -450; policy accept;
    $R_NFT_RAW
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    $R_NFT_FORWARD
  }
  chain output {
    type filter hook output priority 0; policy accept;
    $R_NFT_OUTPUT
  }
  chain post {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
}
EOF
  local anat=""
  [ "$A_NAT_TUNNEL" = 1 ] && anat='ip saddr 10.1.0.0/24 oifname != "lan0" snat to 192.168.1.2'
  x "$NS_A" nft -f - <<EOF
table ip lab {
  chain post {
    type nat hook postrouting priority 100;
    $anat
  }
}
EOF

  strongswan_conf "$NS_A" a 192.168.1.2 198.51.100.2 gwa.lab gwb.lab 10.1.0.0/24 "$A_REMOTE_TS" "$A_START"
  strongswan_conf "$NS_B" b 198.51.100.2 198.51.100.1 gwb.lab gwa.lab "$B_LOCAL_TS" "$B_REMOTE_TS"
  # B accepts A from whatever address the NAT router gives it.
  sed -i 's/remote_addrs = 198.51.100.1/remote_addrs = %any/' "/etc/netns/$NS_B/swanctl/swanctl.conf"
  start_charon "$NS_A" a
  start_charon "$NS_B" b

  mkdir -p "$WORK/www"
  printf '<html><body>Tandem IPsec lab: server</body></html>\n' >"$WORK/www/index.html"
  head -c 200000 /dev/zero | tr '\0' 'b' >"$WORK/www/big.bin"
  web_server "$NS_S"
}

run_scenario() {
  local s=$1 dir=$2
  set_scenario "$s"
  log "scenario $s -> $dir"
  build
  rm -rf "$dir"; mkdir -p "$dir"
  capture "$NS_A" capA dumpcap -q -i lan0 -i wan0 -i ipsec0 -w "$dir/A.pcapng"
  capture "$NS_B" capB dumpcap -q -i eth0 -i ipsec0 -i eth1 -w "$dir/B.pcapng"
  capture_any_text "$dir"
  save_links "$dir"

  # Bring the tunnel up the way an admin would, with the captures running.
  local up=0
  if [ "$INIT_BG" = 1 ]; then
    x "$NS_A" swanctl --initiate --child net --timeout 10 --uri "unix://$WORK/a.vici" >"$WORK/initiate.log" 2>&1 &
    PIDS+=($!)
  else
    x "$NS_A" swanctl --initiate --child net --timeout 10 --uri "unix://$WORK/a.vici" >"$WORK/initiate.log" 2>&1 || up=$?
    [ "$up" = 0 ] || log "initiate failed ($up): $(tail -3 "$WORK/initiate.log" | tr '\n' ' ')"
    sleep 0.2
  fi
  local pre_rc=-1
  if [ -n "$PRE_GET" ]; then
    pre_rc=0; x "$NS_C" curl -sS -o /dev/null -m 2 "http://$PRE_GET/" 2>/dev/null || pre_rc=$?
    sleep 0.2
  fi

  fetch "$NS_C" "http://$TARGET$URL_PATH"
  x "$NS_A" swanctl --list-sas --uri "unix://$WORK/a.vici" >"$dir/A-sas.txt" 2>&1 || true
  x "$NS_B" swanctl --list-sas --uri "unix://$WORK/b.vici" >"$dir/B-sas.txt" 2>&1 || true
  grep -q INSTALLED "$dir/A-sas.txt" || up=1
  cp "$WORK/charon-a.log" "$dir/charon-a.log" 2>/dev/null || true
  cp "$WORK/charon-b.log" "$dir/charon-b.log" 2>/dev/null || true

  chmod 644 "$dir"/*
  printf '{"scenario":"%s","started":%s,"url":"http://%s%s","tunnel_up":%s,"pre_get":"%s","pre_get_exit":%d,"curl_exit":%d,"curl":"%s","curl_error":"%s"}\n' \
    "$s" "$FETCH_STARTED" "$TARGET" "$URL_PATH" "$([ "$up" = 0 ] && echo true || echo false)" "$PRE_GET" "$pre_rc" \
    "$FETCH_RC" "$FETCH_OUT" "$FETCH_ERR" >"$dir/run.json"
  log "scenario $s: tunnel $([ "$up" = 0 ] && echo up || echo DOWN), curl exit $FETCH_RC ($FETCH_OUT) $FETCH_ERR"
  teardown
}

# The files of one capture set the tests read: both gateways as pcapng, as SLL2 (`-i any`) with the
# `ip -o link` that names its interfaces, as live `tcpdump -n -i any` text, and the run record.
REPO_FILES=(A.pcapng B.pcapng A-any.pcap B-any.pcap A-links.txt B-links.txt A.txt B.txt run.json)

# keep_in_repo NAME...: copy those files of $OUT/NAME into captures/NAME, replacing the old set.
keep_in_repo() {
  local n f
  for n in "$@"; do
    rm -rf "$HERE/captures/$n"; mkdir -p "$HERE/captures/$n"
    for f in "${REPO_FILES[@]}"; do
      cp "$OUT/$n/$f" "$HERE/captures/$n/$f"
      chmod 644 "$HERE/captures/$n/$f"
    done
    log "kept $n in $HERE/captures/$n ($(du -cb "$HERE/captures/$n"/* | tail -1 | cut -f1) bytes)"
  done
}

main() {
  local names=() repo=0 out_given=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) OUT=$2; out_given=1; shift 2 ;;
      --checked-in) repo=1; shift ;;
      --list) scenario_names; exit 0 ;;
      -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}"; exit 0 ;;
      all) mapfile -t names < <(scenario_names); shift ;;
      *) names+=("$1"); shift ;;
    esac
  done
  need_tools ip nft dumpcap tcpdump curl node swanctl "$CHARON"
  [ -c /dev/net/tun ] || die "no /dev/net/tun"
  if [ "$repo" = 1 ]; then
    # With --out the full sets (daemon logs, SA lists) stay there for reading; else a temp folder.
    [ "$out_given" = 1 ] || OUT=$(mktemp -d /tmp/tdi-lab-repo.XXXXXX)
    run_named "${names[@]}"
    keep_in_repo "${names[@]}"
    [ "$out_given" = 1 ] || rm -rf "$OUT"
  else
    run_named "${names[@]}"
  fi
}

main "$@"
