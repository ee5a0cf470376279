#!/usr/bin/env bash
# quick.sh — a short side-by-side load check of the proxy data plane against HAProxy (mode tcp,
# nbthread 1), both on loopback, same run, same layout. Not the full benchmark (that is
# /work/shared/bench/l4-anchors.sh); this is for iterating on the plane.
#   bench/l4/quick.sh                 # close + ka + bulk, 3 s x 3 each, everything pinned to CPU 1
#   WORKLOADS="close" DURATION=5 ROWS="keepvs" bench/l4/quick.sh
#   NODE_ARGS=--cpu-prof ROWS=keepvs WORKLOADS=close bench/l4/quick.sh   # profile lands in $WORKDIR
#   ROWS="haproxy keepvs keepvs-sockets" PROXY_CPU=0 LOADGEN_CPU=1 bench/l4/quick.sh   # split layout, both engines
#   PORT=42080 bench/l4/quick.sh      # VIP port (default 18280); the backends use PORT+1 and PORT+2
# Needs wrk, nginx (backends) and haproxy. Only 127.0.0.1 is used; every process it starts is
# stopped by PID on exit.
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
NODE=${NODE:-$HERE/node_modules/.bin/node}
WORKDIR=${WORKDIR:-/tmp/keepvs-quick}
DURATION=${DURATION:-3}
REPS=${REPS:-3}
ROWS=${ROWS:-"haproxy keepvs"}
WORKLOADS=${WORKLOADS:-"close ka bulk"}
PROXY_CPU=${PROXY_CPU:-1}
LOADGEN_CPU=${LOADGEN_CPU:-1}
NODE_ARGS=${NODE_ARGS:-}
PORT=${PORT:-18280}; BE1=$((PORT + 1)); BE2=$((PORT + 2))
mkdir -p "$WORKDIR/www" "$WORKDIR/run"
head -c 64 /dev/zero | tr '\0' 'x' > "$WORKDIR/www/small"
[[ -f $WORKDIR/www/big ]] || head -c 1048576 /dev/urandom > "$WORKDIR/www/big"
chmod 0755 "$WORKDIR" "$WORKDIR/www"; chmod 0644 "$WORKDIR/www/"*
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
wait_listen() { for _ in $(seq 100); do ss -ltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.05; done; return 1; }
for be in $BE1 $BE2; do
  cat > "$WORKDIR/run/be-$be.conf" <<NGX
worker_processes 1; daemon off; pid $WORKDIR/run/be-$be.pid; error_log $WORKDIR/run/be-$be.err warn;
events { worker_connections 8192; }
http { access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 100000000;
  keepalive_timeout 65; default_type application/octet-stream;
  client_body_temp_path $WORKDIR/run/cbt-$be; proxy_temp_path $WORKDIR/run/pt-$be; fastcgi_temp_path $WORKDIR/run/ft-$be;
  uwsgi_temp_path $WORKDIR/run/ut-$be; scgi_temp_path $WORKDIR/run/st-$be;
  server { listen 127.0.0.1:$be backlog=4096; root $WORKDIR/www; location = /small { } location = /big { } } }
NGX
  taskset -c "$LOADGEN_CPU" nginx -e "$WORKDIR/run/be-$be.err" -c "$WORKDIR/run/be-$be.conf" & PIDS+=($!)
  wait_listen $be || { echo "backend $be did not start"; exit 1; }
done
cat > "$WORKDIR/run/haproxy.cfg" <<HAP
global
    nbthread 1
    maxconn 9000
defaults
    mode tcp
    maxconn 9000
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$PORT
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:$BE1
    server s2 127.0.0.1:$BE2
HAP
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
start_proxy() {
  case $1 in
    haproxy) taskset -c "$PROXY_CPU" haproxy -db -f "$WORKDIR/run/haproxy.cfg" & ;;
    keepvs|keepvs-sockets|keepvs-uring) (cd "$WORKDIR" && LB_BUFSIZE=${LB_BUFSIZE:-16384} LB_ENGINE=$(case $1 in keepvs-sockets) echo sockets;; keepvs-uring) echo uring;; *) echo handles;; esac) LB_LISTEN_PORT=$PORT LB_BACKENDS=127.0.0.1:$BE1,127.0.0.1:$BE2 LB_STATS=1 \
              exec taskset -c "$PROXY_CPU" "$NODE" $NODE_ARGS "$HERE/bench/l4/proxy-plane.ts") & ;;
  esac
  PROXY_PID=$!; PIDS+=($PROXY_PID)
  wait_listen $PORT || { echo "$1 did not start"; exit 1; }
}
stop_proxy() { kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }
run_wrk() {
  case $1 in
    close) taskset -c "$LOADGEN_CPU" wrk -t1 -c64 -d"${DURATION}s" -H 'Connection: close' "http://127.0.0.1:$PORT/small" ;;
    ka)    taskset -c "$LOADGEN_CPU" wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:$PORT/small" ;;
    bulk)  taskset -c "$LOADGEN_CPU" wrk -t1 -c16 -d"${DURATION}s" "http://127.0.0.1:$PORT/big" ;;
  esac
}
hz=$(getconf CLK_TCK)
printf '%-8s %-6s %s\n' row work "per rep: rate (req/s or MiB/s) @ proxy CPU%"
for row in $ROWS; do
  for w in $WORKLOADS; do
    start_proxy "$row"
    run_wrk "$w" > /dev/null 2>&1   # warm-up
    line=""
    for _ in $(seq "$REPS"); do
      t0=$(cpu_ticks "$PROXY_PID"); out=$(run_wrk "$w" 2>&1); t1=$(cpu_ticks "$PROXY_PID")
      cpu=$(( (t1 - t0) * 100 / hz / DURATION ))
      if [[ $w == bulk ]]; then
        rate=$(echo "$out" | awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub(/GB/,"",v); v*=1024} else {sub(/MB/,"",v)}; printf "%.0f", v}')
      else
        rate=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
      fi
      errs=$(echo "$out" | awk '/Socket errors|Non-2xx/ {printf " [%s]", $0}')
      line="$line ${rate}@${cpu}%${errs}"
    done
    printf '%-8s %-6s %s\n' "$row" "$w" "$line"
    stop_proxy
  done
done
