#!/usr/bin/env bash
# bench/l4/run.sh — the keepvs proxy data plane against HAProxy (mode tcp) and nginx stream, side by
# side in one run, on loopback.  `npm run bench:l4`.  Writes bench/results/l4-<stamp>/ (raw, gitignored)
# and bench/results/l4.md (summary).  BENCHMARKS.md explains how to read it.
#
# Rows:  direct   wrk straight to backend 1 (the ceiling; no balancer)
#        haproxy1 haproxy2   HAProxy mode tcp, nbthread 1 / 2, balance roundrobin
#        nginx1   nginx2     nginx stream{}, worker_processes 1 / 2
#        keepvs1  keepvs2    bin/keepvs --control <tmp>/k.sock -l, configured with bin/keepvsadm
#                            (-A -t VIP:PORT -s rr; -a ... -r RIP:PORT -m, two backends). keepvs2 adds the
#                            daemon's worker option if `bin/keepvs -h` offers one (KEEPVS_WORKER_FLAG
#                            overrides); otherwise the row reads "n/a (single process)".
#        plane    (diagnostic, not in the default rows) the proxy plane + Director without the daemon,
#                 bench/l4/proxy-plane.ts: tells the plane's cost from the daemon's
# Workloads (wrk -t1, DURATION s, REPS times, median + spread):
#        ka    keep-alive GET /small (64 B), -c64            -> requests/s, p99
#        close GET /small with "Connection: close", -c64     -> new connections/s, p99
#        bulk  keep-alive GET /big (1 MiB), -c16             -> MiB/s
#        iperf one iperf3 TCP stream through the proxy       -> Gbit/s (IPERF=1)
#        idle  IDLE_CONNS idle connections through a fresh proxy: RSS before/after (IDLE=1); capped so
#              2 fds per connection fit `ulimit -n` (raised when allowed), result scaled to 10 000
# For each rep the proxy's CPU (utime+stime of its process tree, /proc/PID/stat) is sampled, giving
# requests (or MiB) per proxy CPU-second and CPU µs per request; peak RSS is VmHWM.
#
# Fair measurement on a 2-core VM (BENCHMARKS.md explains the choices): wrk, the backends, iperf3
# and this script sit on LOADGEN_CPU (core 1).  LAYOUTS="split shared" runs both layouts:
#   split   the proxy alone on core 0 (2-worker rows may use both cores and then compete with wrk);
#           noisy (cross-vCPU wake-ups), absolute throughput and latency.
#   shared  the proxy on core 1 with everything else (1-worker rows only); quiet, shows the proxy's
#           total CPU cost per request — the stable ranking.
# Every measurement gets a fresh proxy and a warm-up, so one run's churn cannot slow the next, and
# reps are interleaved across rows (rotated order) so that load from other processes that comes and
# goes hits every row alike. Each measurement records the foreign CPU (machine busy time minus the
# proxy, backends and wrk) and is repeated when it exceeds MAX_FOREIGN % of a core.
#
# Knobs (env): LAYOUTS ("split shared")  DURATION (3)  REPS (3)  WARMUP (1)
#   ROWS_SPLIT ("direct haproxy1 haproxy2 nginx1 nginx2 keepvs1 keepvs2")  ROWS_SHARED ("haproxy1 nginx1 keepvs1")
#   WORKLOADS ("ka close bulk")  IPERF (1) IPERF_SECS (2) IPERF_REPS (2) IPERF_LAYOUTS ("split")
#   IDLE (1) IDLE_CONNS (10000) IDLE_ROWS ("haproxy1 nginx1 keepvs1")
#   CONNS_KA (64) CONNS_CLOSE (64) CONNS_BULK (16)  PROXY_CPU (0) LOADGEN_CPU (1)
#   PORT_BASE (18080: VIP; +1,+2 backends; +9 iperf VIP; +10 iperf3 -s)  KEEPVS_WORKER_FLAG ("")
#   MAX_FOREIGN (30) RETRIES (2 per measurement) RETRY_BUDGET (20 per run) QUIET_WAIT (10 s)
#   AUTO_INSTALL (1: apt-get install missing tools when root)  OUT (bench/results/l4-<stamp>)
# A default run takes about 9–10 minutes.  Only 127.0.0.1 is used.  Every process it starts is
# recorded and stopped by PID on exit (EXIT trap); each wait and each tool run is bounded.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
NODE=$ROOT/node_modules/.bin/node
[[ -x $NODE ]] || NODE=$(command -v node || true)

LAYOUTS=${LAYOUTS-split shared}
DURATION=${DURATION:-3}
REPS=${REPS:-3}
WARMUP=${WARMUP:-1}
ROWS_SPLIT=${ROWS_SPLIT-direct haproxy1 haproxy2 nginx1 nginx2 keepvs1 keepvs2}
ROWS_SHARED=${ROWS_SHARED-haproxy1 nginx1 keepvs1}
WORKLOADS=${WORKLOADS:-ka close bulk}
IPERF=${IPERF:-1}
IPERF_SECS=${IPERF_SECS:-2}
IPERF_REPS=${IPERF_REPS:-2}
IPERF_LAYOUTS=${IPERF_LAYOUTS:-split}
IDLE=${IDLE:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_ROWS=${IDLE_ROWS-haproxy1 nginx1 keepvs1}
CONNS_KA=${CONNS_KA:-64}
CONNS_CLOSE=${CONNS_CLOSE:-64}
CONNS_BULK=${CONNS_BULK:-16}
NCPU=$(nproc)
PROXY_CPU=${PROXY_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-$(( NCPU > 1 ? 1 : 0 ))}
PORT_BASE=${PORT_BASE:-18080}
KEEPVS_WORKER_FLAG=${KEEPVS_WORKER_FLAG:-}
AUTO_INSTALL=${AUTO_INSTALL:-1}
MAX_FOREIGN=${MAX_FOREIGN:-30}
RETRIES=${RETRIES:-2}
QUIET_WAIT=${QUIET_WAIT:-10}
RETRY_BUDGET=${RETRY_BUDGET:-20}   # repeats in the whole run, so a busy machine cannot stretch it much
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/results/l4-$STAMP}
SUMMARY=${SUMMARY:-$ROOT/bench/results/l4.md}

HOST=127.0.0.1
VIP_PORT=$PORT_BASE BE1=$(( PORT_BASE + 1 )) BE2=$(( PORT_BASE + 2 ))
IPERF_VIP_PORT=$(( PORT_BASE + 9 )) IPERF_SRV_PORT=$(( PORT_BASE + 10 ))
LOGS=$OUT/logs
CFG=$OUT/configs
CSV=$OUT/runs.csv
mkdir -p "$LOGS" "$CFG" || exit 1
# Short scratch dir: web root for the backends and the control sockets (a Unix socket path must stay
# under 108 bytes). nginx workers run as an unprivileged user, so the web root must be world-readable.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kvs-l4.XXXXXX") || exit 1
chmod 0755 "$SCRATCH"
PIDFILE=$SCRATCH/pids
: > "$PIDFILE"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; echo "[$(date +%H:%M:%S)] $*" >> "$OUT/run.log"; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ tools
check_tools() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v nginx   >/dev/null || missing+=(nginx-light)
  command -v wrk     >/dev/null || missing+=(wrk)
  command -v iperf3  >/dev/null || missing+=(iperf3)
  command -v curl    >/dev/null || missing+=(curl)
  # Debian's nginx-light has no stream module built in; libnginx-mod-stream adds it as a module.
  if ! nginx -V 2>&1 | grep -q -- '--with-stream ' && [[ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]]; then
    missing+=(libnginx-mod-stream)
  fi
  if ((${#missing[@]})); then
    if [[ $AUTO_INSTALL == 1 && $(id -u) == 0 ]]; then
      log "installing: ${missing[*]}"
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >> "$LOGS/apt.log" 2>&1 \
        || die "apt-get install ${missing[*]} failed (see $LOGS/apt.log)"
    else
      die "missing: ${missing[*]} — install them with: apt-get install ${missing[*]}"
    fi
  fi
  local t
  for t in taskset ss ps awk getconf; do command -v $t >/dev/null || die "missing tool $t (util-linux / iproute2 / procps)"; done
  [[ -n $NODE ]] || die "no node: run npm install (node_modules/.bin/node) or put node on PATH"
  [[ -x $ROOT/bin/keepvs && -x $ROOT/bin/keepvsadm ]] || die "bin/keepvs or bin/keepvsadm missing under $ROOT"
}
STREAM_LOAD=""
[[ -e /usr/lib/nginx/modules/ngx_stream_module.so ]] && STREAM_LOAD="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"

# ------------------------------------------------------------------ process bookkeeping
LAST_PID=
start_bg() {  # name cpus cmd...   -> LAST_PID (taskset and bin/keepvs exec, so the PID is the program's)
  local name=$1 cpus=$2; shift 2
  taskset -c "$cpus" "$@" >> "$LOGS/$name.log" 2>&1 &
  LAST_PID=$!
  echo "$LAST_PID $name" >> "$PIDFILE"
}
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ -n $s && $s != Z* ]]; }
tree_pids() { local p=$1 c; echo "$p"; for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done; }
stop_pid() {  # pid: SIGTERM, wait up to 10 s, then SIGKILL it and the children it had
  local pid=$1 kids i k
  kids=$(tree_pids "$pid" | tail -n +2)
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then log "  pid $pid ($(ps -o comm= -p "$pid")) ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; fi
  for k in $kids; do alive "$k" && kill -KILL "$k" 2>/dev/null; done
  wait "$pid" 2>/dev/null
  sed -i "/^$pid /d" "$PIDFILE"
}
cleanup() {
  local pid name
  while read -r pid name; do [[ -n $pid ]] && stop_pid "$pid"; done < <(tac "$PIDFILE" 2>/dev/null)
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
wait_listen() { local i; for ((i = 0; i < ${2:-100}; i++)); do listening "$1" && return 0; sleep 0.1; done; return 1; }
wait_free()   { local i; for ((i = 0; i < 100; i++)); do listening "$1" || return 0; sleep 0.1; done; return 1; }

cpu_ticks() {  # pids... -> utime+stime in clock ticks, summed (threads included)
  local t=0 p s f
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    s=$(<"/proc/$p/stat") || continue
    read -ra f <<< "${s##*) }"
    t=$(( t + f[11] + f[12] ))
  done
  echo "$t"
}
mem_kb() {  # VmRSS|VmHWM pids... -> kB summed
  local field=$1 t=0 p k v; shift
  for p in "$@"; do
    [[ -r /proc/$p/status ]] || continue
    while read -r k v _; do [[ $k == "$field:" ]] && t=$(( t + v )); done < "/proc/$p/status"
  done
  echo "$t"
}
steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
# CPU used by everything on the machine over one second while this benchmark is idle between rows
# (its backends idle): other people's load, which makes the numbers noisy. In % of one core.
background_cpu() {
  local b0 b1 t0 t1; b0=$(busy_ticks); t0=$(now); sleep 1; b1=$(busy_ticks); t1=$(now)
  awk -v d=$(( b1 - b0 )) -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN{printf "%.0f", d/hz/(b-a)*100}'
}
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)
median() { printf '%s\n' "$@" | grep -Ev '^(n/a|)$' | sort -g | awk '{a[NR]=$1} END{if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
spread() {  # values... -> (max-min)/median in %
  local m; m=$(median "$@")
  printf '%s\n' "$@" | grep -Ev '^(n/a|)$' | sort -g | awk -v m="$m" \
    '{a[NR]=$1} END{ if (NR<2||m=="n/a"||m==0) print "n/a"; else printf "%.0f", (a[NR]-a[1])/m*100 }'
}
fmt() { awk -v v="$1" -v p="${2:-0}" 'BEGIN{ if (v=="n/a"||v=="") print "n/a"; else printf "%.*f", p, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="n/a"||b=="n/a"||a==""||b==""||b==0) print "n/a"; else printf "%.2f", a/b }'; }

# ------------------------------------------------------------------ file descriptors
# 10 000 idle proxied connections need 20 000+ descriptors in the proxy (client + backend side);
# root may raise the hard limit. Children inherit it.
FD_WANT=$(( IDLE_CONNS * 2 + 4096 ))
if (( $(ulimit -Hn) < FD_WANT )); then ulimit -Hn "$FD_WANT" 2>/dev/null || true; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
[[ $FD_LIMIT == unlimited ]] && FD_LIMIT=1048576
# HAProxy refuses to start when maxconn needs more fds than it can get (about 2 per connection + a few).
HAPROXY_MAXCONN=$(( (FD_LIMIT - 100) / 2 )); (( HAPROXY_MAXCONN > 20000 )) && HAPROXY_MAXCONN=20000
# Without CAP_SYS_RESOURCE the hard limit stays (20 000 on this VM): then fewer idle connections are
# opened (a round thousand that fits) and the result is scaled to 10 000.
IDLE_FIT=$(( (FD_LIMIT - 1500) / 2 / 1000 * 1000 ))
IDLE_CONNS_EFF=$IDLE_CONNS
(( IDLE_CONNS_EFF > IDLE_FIT )) && IDLE_CONNS_EFF=$IDLE_FIT

# ------------------------------------------------------------------ backends
setup_backends() {
  mkdir -p "$SCRATCH/www"; chmod 0755 "$SCRATCH/www"
  head -c 64 /dev/zero | tr '\0' 'x' > "$SCRATCH/www/small"
  head -c 1048576 /dev/urandom > "$SCRATCH/www/big"
  chmod 0644 "$SCRATCH/www/small" "$SCRATCH/www/big"
  local port
  for port in $BE1 $BE2; do
    cat > "$CFG/backend-$port.conf" <<EOF
worker_processes 1;
daemon off;
pid $SCRATCH/backend-$port.pid;
error_log $LOGS/backend-$port.err warn;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000000; keepalive_timeout 65;
  default_type application/octet-stream;
  client_body_temp_path $SCRATCH/cbt-$port; proxy_temp_path $SCRATCH/pt-$port;
  fastcgi_temp_path $SCRATCH/ft-$port; uwsgi_temp_path $SCRATCH/ut-$port; scgi_temp_path $SCRATCH/st-$port;
  server {
    listen $HOST:$port backlog=4096;
    root $SCRATCH/www;
    location = /small { }
    location = /big   { }
  }
}
EOF
    start_bg "backend-$port" "$LOADGEN_CPU" nginx -e "$LOGS/backend-$port.err" -c "$CFG/backend-$port.conf"
    local bpid=$LAST_PID
    wait_listen "$port" || die "backend $port did not start (see $LOGS/backend-$port.err)"
    mapfile -t -O "${#BACKEND_PIDS[@]}" BACKEND_PIDS < <(tree_pids "$bpid")
  done
  if [[ $IPERF == 1 ]]; then
    start_bg iperf3-server "$LOADGEN_CPU" iperf3 -s -B $HOST -p "$IPERF_SRV_PORT"
    BACKEND_PIDS+=("$LAST_PID")
    wait_listen "$IPERF_SRV_PORT" || die "iperf3 -s did not start"
  fi
  local sz; sz=$(curl -s -o /dev/null -w '%{size_download}' "http://$HOST:$BE1/small" 2>/dev/null || true)
  [[ $sz == 64 ]] || die "backend /small returned '$sz' bytes (see $LOGS/backend-$BE1.err)"
}

# ------------------------------------------------------------------ proxies
haproxy_cfg() {  # nbthread port backends_csv -> path
  local n=$1 port=$2 bes=$3 f="$CFG/haproxy-$1-$2.cfg" i=0 b
  {
    cat <<EOF
global
    nbthread $n
    maxconn $HAPROXY_MAXCONN
defaults
    mode tcp
    maxconn $HAPROXY_MAXCONN
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind $HOST:$port
    default_backend be
backend be
    balance roundrobin
EOF
    for b in ${bes//,/ }; do i=$((i + 1)); echo "    server s$i $b"; done
  } > "$f"
  echo "$f"
}
nginx_stream_conf() {  # workers port backends_csv -> path
  local n=$1 port=$2 bes=$3 f="$CFG/nginx-stream-$1-$2.conf" b
  {
    cat <<EOF
$STREAM_LOAD
worker_processes $n;
worker_rlimit_nofile $FD_LIMIT;
daemon off;
pid $SCRATCH/nginx-stream-$n-$port.pid;
error_log $LOGS/nginx-stream-$n-$port.err warn;
events { worker_connections $(( IDLE_CONNS_EFF * 2 + 1000 )); }
stream {
  upstream be {
EOF
    for b in ${bes//,/ }; do echo "    server $b;"; done
    cat <<EOF
  }
  server { listen $HOST:$port backlog=4096; proxy_pass be; }
}
EOF
  } > "$f"
  echo "$f"
}

# The daemon's worker option, if `bin/keepvs -h` lists one (--workers / --worker-processes / --threads).
detect_keepvs_workers() {
  [[ -n $KEEPVS_WORKER_FLAG ]] && return
  local help; help=$(timeout 20 "$ROOT/bin/keepvs" -h 2>&1 || true)
  local f
  for f in --workers --worker-processes --threads; do
    if grep -qE -- "$f([=[ ]|$)" <<< "$help"; then KEEPVS_WORKER_FLAG="$f=2"; return; fi
  done
}

KEEPVSADM_LOG=
keepvsadm() { KEEPVS_SOCKET=$KEEPVS_SOCK timeout 20 "$ROOT/bin/keepvsadm" "$@" >> "$KEEPVSADM_LOG" 2>&1; }

# start_proxy row port backends_csv cpus -> LAST_PID; returns 1 if it never listens
start_proxy() {
  local row=$1 port=$2 bes=$3 cpus=$4 cfg n
  case $row in
    haproxy1|haproxy2)
      n=${row#haproxy}; cfg=$(haproxy_cfg "$n" "$port" "$bes")
      haproxy -c -q -f "$cfg" >> "$LOGS/$row-$port.log" 2>&1 || die "bad $cfg (see $LOGS/$row-$port.log)"
      start_bg "$row-$port" "$cpus" haproxy -db -f "$cfg" ;;
    nginx1|nginx2)
      n=${row#nginx}; cfg=$(nginx_stream_conf "$n" "$port" "$bes")
      start_bg "$row-$port" "$cpus" nginx -e "$LOGS/$row-$port.err" -c "$cfg" ;;
    keepvs1|keepvs2)
      local flag=()
      [[ $row == keepvs2 ]] && flag=("$KEEPVS_WORKER_FLAG")
      KEEPVS_SOCK=$SCRATCH/k-$port.sock; rm -f "$KEEPVS_SOCK"
      KEEPVSADM_LOG=$LOGS/$row-$port.keepvsadm.log
      start_bg "$row-$port" "$cpus" "$ROOT/bin/keepvs" --control "$KEEPVS_SOCK" -l "${flag[@]}"
      local i pid=$LAST_PID
      for ((i = 0; i < 150; i++)); do [[ -S $KEEPVS_SOCK ]] && break; alive "$pid" || break; sleep 0.1; done
      [[ -S $KEEPVS_SOCK ]] || { log "  $row: no control socket after 15 s (log: $LOGS/$row-$port.log)"; return 1; }
      keepvsadm -A -t "$HOST:$port" -s rr || { log "  $row: keepvsadm -A failed (see $KEEPVSADM_LOG)"; return 1; }
      local b
      for b in ${bes//,/ }; do
        keepvsadm -a -t "$HOST:$port" -r "$b" -m || { log "  $row: keepvsadm -a -r $b failed (see $KEEPVSADM_LOG)"; return 1; }
      done
      LAST_PID=$pid ;;
    plane)
      # diagnostic: the proxy plane and the Director alone (bench/l4/proxy-plane.ts), no daemon
      start_bg "$row-$port" "$cpus" env LB_LISTEN_HOST=$HOST LB_LISTEN_PORT="$port" LB_BACKENDS="$bes" \
        "$NODE" "$ROOT/bench/l4/proxy-plane.ts" ;;
    *) die "unknown row $row" ;;
  esac
  wait_listen "$port" 150 || { log "  $row did not listen on $port (log: $LOGS/$row-$port.log)"; return 1; }
  sleep 0.3
}
row_cpus() {  # row layout -> cpu list for the proxy
  case $2 in
    shared) echo "$LOADGEN_CPU" ;;
    *) case $1 in *2) echo "0-$(( NCPU - 1 ))" ;; *) echo "$PROXY_CPU" ;; esac ;;
  esac
}
row_skip_reason() {  # row layout -> reason, or nothing when the row runs
  if [[ $1 == keepvs2 && -z $KEEPVS_WORKER_FLAG ]]; then echo "n/a (single process: bin/keepvs -h offers no worker option)"; return; fi
  if [[ $2 == shared && $1 == *2 ]]; then echo "n/a (one core in the shared layout)"; return; fi
}

# ------------------------------------------------------------------ measurement
# Each measurement is one fresh proxy, a warm-up and one wrk run. Reps are interleaved: for each
# workload, rep 1 of every row, then rep 2 (rows in rotated order), … so that load from other
# processes that comes and goes hits all rows alike instead of one row's whole series.
# Foreign CPU: machine-wide busy time during the run minus the proxy's, the backends' and wrk's own
# CPU time, in % of one core. Above MAX_FOREIGN the measurement is repeated (up to RETRIES times,
# after waiting up to QUIET_WAIT s for the machine to calm down); the last attempt counts either way.
echo "layout,row,workload,rep,value,unit,proxy_cpu_pct,per_cpu_s,cpu_us_per_req,errors,p99_ms,foreign_cpu_pct,attempt" > "$CSV"
declare -A R
BACKEND_PIDS=()
RETRIED=0

# measure_wrk layout row workload rep attempt port pids... -> CSV line; echoes "value cpu eff errs p99 foreign"
measure_wrk() {
  local layout=$1 row=$2 w=$3 rep=$4 attempt=$5 port=$6; shift 6
  local pids=("$@") url conns hdr=() f="$LOGS/$layout-$row-$w-$rep-$attempt.wrk"
  case $w in
    ka)    url=/small; conns=$CONNS_KA ;;
    close) url=/small; conns=$CONNS_CLOSE; hdr=(-H 'Connection: close') ;;
    bulk)  url=/big;   conns=$CONNS_BULK ;;
  esac
  local c0 c1 t0 t1 b0 b1 k0 k1 TIMEFORMAT='%U %S'
  b0=$(busy_ticks); k0=$(cpu_ticks "${BACKEND_PIDS[@]}"); c0=$(cpu_ticks "${pids[@]}"); t0=$(now)
  { time timeout $(( DURATION + 20 )) wrk -t1 -c"$conns" -d"${DURATION}s" --latency "${hdr[@]}" "http://$HOST:$port$url" > "$f" 2>&1; } 2> "$f.cpu"
  t1=$(now); c1=$(cpu_ticks "${pids[@]}"); k1=$(cpu_ticks "${BACKEND_PIDS[@]}"); b1=$(busy_ticks)
  local cpu="n/a" foreign
  ((${#pids[@]})) && cpu=$(awk -v c=$((c1 - c0)) -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN{printf "%.1f", c/hz/(b-a)*100}')
  foreign=$(awk -v m=$((b1 - b0 - (c1 - c0) - (k1 - k0))) -v a="$t0" -v b="$t1" -v hz="$HZ" \
    '{w=$1+$2} END{f=(m/hz-w)/(b-a)*100; if (f<0) f=0; printf "%.0f", f}' "$f.cpu")
  local rps mibs errs p99 val unit eff us
  rps=$(awk '/^Requests\/sec:/{print $2}' "$f")
  mibs=$(awk '/^Transfer\/sec:/{v=$2; u=v; sub(/^[0-9.]+/,"",u); sub(/[A-Za-z]+$/,"",v);
              m=(u=="GB")?1024:(u=="MB")?1:(u=="KB")?1/1024:1/1048576; printf "%.1f", v*m}' "$f")
  errs=$(awk '/Socket errors:/{gsub(/,/,""); e+=$4+$6+$8+$10} /Non-2xx/{e+=$NF} END{print e+0}' "$f")
  p99=$(awk '$1=="99%"{v=$2; u=v; sub(/^[0-9.]+/,"",u); sub(/[a-z]+$/,"",v);
             m=(u=="us")?0.001:(u=="ms")?1:(u=="s")?1000:(u=="m")?60000:1; printf "%.2f", v*m}' "$f")
  [[ -z $rps ]] && rps="n/a"; [[ -z $mibs ]] && mibs="n/a"; [[ -z $p99 ]] && p99="n/a"
  if [[ $w == bulk ]]; then val=$mibs; unit=MiB/s; else val=$rps; unit=req/s; fi
  # per proxy CPU-second: requests (or MiB) the proxy moved per second of its own CPU time
  eff=$(awk -v v="$val" -v c="$cpu" 'BEGIN{ if (v=="n/a"||c=="n/a"||c<=0) print "n/a"; else printf "%.0f", v/(c/100) }')
  us=$(awk -v v="$rps" -v c="$cpu" 'BEGIN{ if (v=="n/a"||c=="n/a"||v<=0) print "n/a"; else printf "%.1f", (c/100)/v*1e6 }')
  echo "$layout,$row,$w,$rep,$val,$unit,$cpu,$eff,$us,$errs,$p99,$foreign,$attempt" >> "$CSV"
  ((errs > 0)) && log "    $row $w rep$rep: $errs socket errors/non-2xx (see $f)"
  echo "$val $cpu $eff $errs $p99 $foreign"
}

run_iperf() {  # port -> Gbit/s or n/a
  local f="$LOGS/iperf-$1-$RANDOM.json"
  timeout $(( IPERF_SECS + 15 )) iperf3 -c $HOST -p "$1" -t "$IPERF_SECS" -J > "$f" 2>&1 || { echo n/a; return; }
  "$NODE" -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
           const b=j.end&&j.end.sum_received&&j.end.sum_received.bits_per_second;
           console.log(b?(b/1e9).toFixed(2):"n/a")' "$f" 2>/dev/null || echo n/a
}

wait_quiet() {  # up to QUIET_WAIT s for one second of machine load below MAX_FOREIGN (we are idle)
  local i bg
  for ((i = 0; i < QUIET_WAIT; i++)); do
    bg=$(background_cpu); (( bg < MAX_FOREIGN )) && return 0
  done
  log "    machine still busy (${bg}% of a core): going on"
}

# measure_one layout row workload rep: fresh proxy, warm-up, one wrk run, stop. Returns 1 if the
# proxy did not start.
measure_one() {
  local layout=$1 row=$2 w=$3 rep=$4 k="$1,$2" port=$BE1 cpus pids=() proxy_pid="" attempt
  local v c e x p fo hwm fds q
  cpus=$(row_cpus "$row" "$layout")
  [[ $row != direct ]] && port=$VIP_PORT
  for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
    pids=()
    if [[ $row != direct ]]; then
      wait_free "$port" || die "port $port still busy"
      if ! start_proxy "$row" "$port" "$HOST:$BE1,$HOST:$BE2" "$cpus"; then stop_pid "$LAST_PID"; return 1; fi
      proxy_pid=$LAST_PID
      mapfile -t pids < <(tree_pids "$proxy_pid")
    fi
    if ((WARMUP > 0)); then
      timeout $(( WARMUP + 10 )) wrk -t1 -c"$CONNS_KA" -d"${WARMUP}s" "http://$HOST:$port/small" > /dev/null 2>&1
    fi
    read -r v c e x p fo < <(measure_wrk "$layout" "$row" "$w" "$rep" "$attempt" "$port" "${pids[@]}")
    local after=""
    if [[ -n $proxy_pid ]]; then
      hwm=$(mem_kb VmHWM "${pids[@]}"); ((hwm > R[$k,hwm])) && R[$k,hwm]=$hwm
      # after the load has stopped: open fds and RSS left behind (leaks show here)
      sleep 0.2
      fds=0; for q in "${pids[@]}"; do fds=$(( fds + $(ls "/proc/$q/fd" 2>/dev/null | wc -l) )); done
      local rss; rss=$(mem_kb VmRSS "${pids[@]}")
      after="  after: $fds fds, RSS $(( rss / 1024 )) MiB"
      { echo "$layout,$row,$w-after,$rep,$fds,open-fds,,,,0,,,$attempt"; echo "$layout,$row,$w-after,$rep,$rss,rss-kB,,,,0,,,$attempt"; } >> "$CSV"
      alive "$proxy_pid" || log "    WARNING: $row died during $w"
      stop_pid "$proxy_pid"; proxy_pid=""
    fi
    log "  $row $w rep$rep: $v $([[ $w == bulk ]] && echo MiB/s || echo req/s)  proxy cpu ${c}%  per cpu-s ${e}  p99 ${p} ms  foreign ${fo}%$after"
    if (( fo > MAX_FOREIGN && attempt <= RETRIES && RETRIED < RETRY_BUDGET )); then
      log "    foreign load ${fo}% > ${MAX_FOREIGN}%: repeating"; RETRIED=$(( RETRIED + 1 )); wait_quiet; continue
    fi
    break
  done
  R[$k,$w,vals]+=" $v"; R[$k,$w,cpus]+=" $c"; R[$k,$w,effs]+=" $e"; R[$k,$w,p99s]+=" $p"; R[$k,$w,fos]+=" $fo"
  R[$k,$w,err]=$(( ${R[$k,$w,err]:-0} + x ))
}

run_layout() {  # layout rows...
  local layout=$1 row w rep i n k active=() order; shift
  for row in "$@"; do
    k="$layout,$row"
    local why; why=$(row_skip_reason "$row" "$layout")
    if [[ -n $why ]]; then R[$k,skip]=$why; log "$layout $row: $why"; continue; fi
    active+=("$row"); R[$k,ran]=1; R[$k,hwm]=0
  done
  n=${#active[@]}
  ((n)) || return
  for w in ka close bulk; do
    [[ " $WORKLOADS " == *" $w "* ]] || continue
    for ((rep = 1; rep <= REPS; rep++)); do
      log "$layout layout, $w, rep $rep/$REPS (loadavg $(cut -d' ' -f1 /proc/loadavg))"
      for ((i = 0; i < n; i++)); do
        row=${active[$(( (i + rep - 1) % n ))]}; k="$layout,$row"
        [[ -n ${R[$k,failed]:-} ]] && continue
        if ! measure_one "$layout" "$row" "$w" "$rep"; then R[$k,failed]=1; unset "R[$k,ran]"; fi
      done
    done
  done
  for row in "${active[@]}"; do
    k="$layout,$row"
    [[ -n ${R[$k,failed]:-} ]] && continue
    for w in ka close bulk; do
      [[ -n ${R[$k,$w,vals]:-} ]] || continue
      R[$k,$w]=$(median ${R[$k,$w,vals]}); R[$k,$w,spread]=$(spread ${R[$k,$w,vals]})
      R[$k,$w,cpu]=$(median ${R[$k,$w,cpus]}); R[$k,$w,eff]=$(median ${R[$k,$w,effs]}); R[$k,$w,effspread]=$(spread ${R[$k,$w,effs]})
      R[$k,$w,p99]=$(median ${R[$k,$w,p99s]}); R[$k,$w,fo]=$(median ${R[$k,$w,fos]})
    done
  done
  [[ $IPERF == 1 && " $IPERF_LAYOUTS " == *" $layout "* ]] || return
  for row in "${active[@]}"; do
    k="$layout,$row"
    [[ -n ${R[$k,failed]:-} ]] && continue
    local ip=$IPERF_SRV_PORT g=() j ok=1 cpus; cpus=$(row_cpus "$row" "$layout")
    if [[ $row != direct ]]; then
      ip=$IPERF_VIP_PORT; wait_free "$ip"
      start_proxy "$row" "$ip" "$HOST:$IPERF_SRV_PORT" "$cpus" || ok=0
    fi
    if ((ok)); then
      for ((j = 1; j <= IPERF_REPS; j++)); do g+=("$(run_iperf "$ip")"); done
      R[$k,iperf]=$(median "${g[@]}")
      echo "$layout,$row,iperf,0,${R[$k,iperf]},Gbit/s,,,,0,,," >> "$CSV"
      log "  $row iperf3: ${g[*]} Gbit/s"
    fi
    [[ $row != direct ]] && stop_pid "$LAST_PID"
  done
}

# Idle connections: fresh proxy, RSS before, IDLE_CONNS idle clients through it, every backend-side
# connection established (ss), RSS after; the difference scaled to 10 000 connections. Two kinds of
# idle client: silent (never sends a byte) and after one keep-alive request (data moved both ways,
# so the proxy's per-connection buffers have been touched).
run_idle() {  # row silent|request
  local row=$1 mode=$2 k="idle,$1,$2" cpus req=()
  local why; why=$(row_skip_reason "$row" split)
  if [[ -n $why ]]; then R[idle,$row,skip]=$why; return; fi
  cpus=$(row_cpus "$row" split)
  [[ $mode == request ]] && req=(--request /small)
  log "idle $row: $IDLE_CONNS_EFF idle connections ($mode)"
  wait_free "$VIP_PORT" || die "port $VIP_PORT still busy"
  if ! start_proxy "$row" "$VIP_PORT" "$HOST:$BE1,$HOST:$BE2" "$cpus"; then stop_pid "$LAST_PID"; R[idle,$row,failed]=1; return; fi
  local proxy_pid=$LAST_PID pids before after be0 be n=0 i line="" client name="idle-client-$row-$mode"
  mapfile -t pids < <(tree_pids "$proxy_pid")
  sleep 1
  before=$(mem_kb VmRSS "${pids[@]}")
  be0=$(ss -Htn state established "( dport = :$BE1 or dport = :$BE2 )" 2>/dev/null | wc -l)
  start_bg "$name" "$LOADGEN_CPU" "$NODE" "$ROOT/bench/l4/idle-conns.ts" --host $HOST --port "$VIP_PORT" \
    --count "$IDLE_CONNS_EFF" --hold 40 --timeout 15 "${req[@]}"
  client=$LAST_PID
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m1 '^open ' "$LOGS/$name.log" 2>/dev/null) && break
    alive "$client" || break; sleep 0.1
  done
  # the proxy has accepted and connected each one when its backend-side socket is established
  for ((i = 0; i < 150; i++)); do
    be=$(ss -Htn state established "( dport = :$BE1 or dport = :$BE2 )" 2>/dev/null | wc -l)
    n=$(( be - be0 )); (( n >= IDLE_CONNS_EFF )) && break; sleep 0.1
  done
  sleep 1
  after=$(mem_kb VmRSS "${pids[@]}")
  be=$(ss -Htn state established "( dport = :$BE1 or dport = :$BE2 )" 2>/dev/null | wc -l); n=$(( be - be0 ))
  R[$k,before]=$before; R[$k,after]=$after; R[$k,n]=$n
  R[$k,per10k]=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN{ if (n<=0) print "n/a"; else printf "%.1f", (a-b)/1024/n*10000 }')
  echo "idle,$row,idle-$mode,1,${R[$k,per10k]},MiB/10k,,,,0,,"  >> "$CSV"
  log "  client: ${line:-no report}; proxied (backend side established): $n; RSS ${before} kB -> ${after} kB; +${R[$k,per10k]} MiB per 10 000"
  alive "$proxy_pid" || log "  WARNING: $row died holding idle connections"
  stop_pid "$client"
  stop_pid "$proxy_pid"
}

# ------------------------------------------------------------------ tables
cell_err() {  # key -> " (errors a/b/c)" or nothing
  local k=$1
  (( ${R[$k,ka,err]:-0} + ${R[$k,close,err]:-0} + ${R[$k,bulk,err]:-0} > 0 )) && \
    echo " (errors ka/close/bulk: ${R[$k,ka,err]:-0}/${R[$k,close,err]:-0}/${R[$k,bulk,err]:-0})"
}
table_layout() {  # layout rows...
  local layout=$1 row k; shift
  echo "| row | ka req/s | ka p99 ms | close conn/s | close p99 ms | bulk MiB/s | iperf3 Gbit/s | proxy CPU % ka/close/bulk | ka req per proxy CPU-s | close conn per proxy CPU-s | bulk MiB per proxy CPU-s | CPU µs per req ka/close | peak RSS MiB | spread % ka/close/bulk | spread % per-CPU-s ka/close/bulk | foreign CPU % ka/close/bulk |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "$@"; do
    k="$layout,$row"
    if [[ -n ${R[$k,skip]:-} ]]; then echo "| $row | ${R[$k,skip]} ||||||||||||||| "; continue; fi
    if [[ -n ${R[$k,failed]:-} ]]; then echo "| $row | failed to start (see logs/) ||||||||||||||| "; continue; fi
    local cpu="—" effk="—" effc="—" effb="—" us="—" rss="—" effsp="—"
    if [[ $row != direct ]]; then
      cpu="$(fmt "${R[$k,ka,cpu]:-}")/$(fmt "${R[$k,close,cpu]:-}")/$(fmt "${R[$k,bulk,cpu]:-}")"
      effk=$(fmt "${R[$k,ka,eff]:-}"); effc=$(fmt "${R[$k,close,eff]:-}"); effb=$(fmt "${R[$k,bulk,eff]:-}")
      us="$(awk -v e="${R[$k,ka,eff]:-n/a}" 'BEGIN{ if (e=="n/a"||e==0) print "n/a"; else printf "%.1f", 1e6/e }')/$(awk -v e="${R[$k,close,eff]:-n/a}" 'BEGIN{ if (e=="n/a"||e==0) print "n/a"; else printf "%.1f", 1e6/e }')"
      rss=$(fmt "$(awk -v k="${R[$k,hwm]:-0}" 'BEGIN{print k/1024}')" 1)
      effsp="${R[$k,ka,effspread]:-n/a}/${R[$k,close,effspread]:-n/a}/${R[$k,bulk,effspread]:-n/a}"
    fi
    echo "| $row$(cell_err "$k") | $(fmt "${R[$k,ka]:-}") | ${R[$k,ka,p99]:-n/a} | $(fmt "${R[$k,close]:-}") | ${R[$k,close,p99]:-n/a} | $(fmt "${R[$k,bulk]:-}") | ${R[$k,iperf]:-—} | $cpu | $effk | $effc | $effb | $us | $rss | ${R[$k,ka,spread]:-n/a}/${R[$k,close,spread]:-n/a}/${R[$k,bulk,spread]:-n/a} | $effsp | ${R[$k,ka,fo]:-n/a}/${R[$k,close,fo]:-n/a}/${R[$k,bulk,fo]:-n/a} |"
  done
}
table_ratios() {  # layout rows... : ratios to the HAProxy row with the same thread/worker count
  local layout=$1 row k b; shift
  echo "| row | vs | close conn/s | bulk MiB/s | ka req/s | ka req per proxy CPU-s | close conn per proxy CPU-s | bulk MiB per proxy CPU-s | iperf3 |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for row in "$@"; do
    k="$layout,$row"
    [[ -n ${R[$k,skip]:-} || -n ${R[$k,failed]:-} ]] && continue
    b=haproxy1; [[ $row == *2 ]] && b=haproxy2
    local bk="$layout,$b"
    [[ -n ${R[$bk,ran]:-} ]] || continue
    echo "| $row | $b | $(ratio "${R[$k,close]:-}" "${R[$bk,close]:-}") | $(ratio "${R[$k,bulk]:-}" "${R[$bk,bulk]:-}") | $(ratio "${R[$k,ka]:-}" "${R[$bk,ka]:-}") | $(ratio "${R[$k,ka,eff]:-}" "${R[$bk,ka,eff]:-}") | $(ratio "${R[$k,close,eff]:-}" "${R[$bk,close,eff]:-}") | $(ratio "${R[$k,bulk,eff]:-}" "${R[$bk,bulk,eff]:-}") | $(ratio "${R[$k,iperf]:-}" "${R[$bk,iperf]:-}") |"
  done
}
table_idle() {
  local row k m
  echo "| row | idle connections proxied (silent / after 1 request) | RSS at start MiB | RSS with them, silent MiB | per 10 000 silent MiB | RSS with them, after 1 request MiB | per 10 000 after 1 request MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for row in $IDLE_ROWS; do
    if [[ -n ${R[idle,$row,skip]:-} ]]; then echo "| $row | ${R[idle,$row,skip]} | | | | | |"; continue; fi
    if [[ -n ${R[idle,$row,failed]:-} ]]; then echo "| $row | failed to start | | | | | |"; continue; fi
    local ks="idle,$row,silent" kr="idle,$row,request"
    mib() { [[ -z ${1:-} ]] && { echo n/a; return; }; fmt "$(awk -v k="$1" 'BEGIN{print k/1024}')" 1; }
    echo "| $row | ${R[$ks,n]:-n/a} / ${R[$kr,n]:-n/a} | $(mib "${R[$ks,before]:-}") | $(mib "${R[$ks,after]:-}") | ${R[$ks,per10k]:-n/a} | $(mib "${R[$kr,after]:-}") | ${R[$kr,per10k]:-n/a} |"
  done
}

machine() {
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), nproc $NCPU, $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "- node $("$NODE" --version) ($NODE); $(haproxy -v 2>&1 | head -1 | awk '{print "HAProxy", $3}'); $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $(iperf3 --version 2>&1 | head -1 | awk '{print $1, $2}')"
  local rev dirty=""
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
  [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]] && \
    dirty=" + uncommitted changes (sha256 of src/dataplane/proxy/*.ts: $(cat "$ROOT"/src/dataplane/proxy/*.ts | sha256sum | cut -c1-12))"
  echo "- keepvs $rev$dirty: bin/keepvs --control <tmp>/k.sock -l, keepvsadm -A -t $HOST:$VIP_PORT -s rr, two -a ... -m; 2-worker flag: ${KEEPVS_WORKER_FLAG:-none (single process)}"
  echo "- sysctl: tcp_tw_reuse=$(sysctl -n net.ipv4.tcp_tw_reuse 2>/dev/null), somaxconn=$(sysctl -n net.core.somaxconn 2>/dev/null), ip_local_port_range=$(sysctl -n net.ipv4.ip_local_port_range 2>/dev/null | xargs); ulimit -n $FD_LIMIT; HAProxy maxconn $HAPROXY_MAXCONN"
  echo "- wrk -t1, ${DURATION} s × $REPS reps per workload (median; spread = (max−min)/median), reps interleaved across rows, fresh proxy + ${WARMUP} s warm-up per measurement; ka -c$CONNS_KA GET /small (64 B); close -c$CONNS_CLOSE 'Connection: close' GET /small; bulk -c$CONNS_BULK GET /big (1 MiB); iperf3 one stream ${IPERF_SECS} s × $IPERF_REPS ($IPERF_LAYOUTS layout)"
  echo "- layouts: split = proxy on cpu $PROXY_CPU alone (2-worker rows: cpus 0-$(( NCPU - 1 )), competing with the load generator), wrk + backends + iperf3 on cpu $LOADGEN_CPU; shared = everything on cpu $LOADGEN_CPU"
}

# ------------------------------------------------------------------ main
check_tools
T0=$(date +%s)
((NCPU >= 2)) || log "WARNING: only $NCPU cpu; both layouts put everything on one core"
taskset -cp "$LOADGEN_CPU" $$ >/dev/null   # this shell, wrk, iperf3 -c, keepvsadm and the idle client inherit it
for p in $VIP_PORT $BE1 $BE2 $IPERF_VIP_PORT $IPERF_SRV_PORT; do listening "$p" && die "port $p is in use (set PORT_BASE)"; done
detect_keepvs_workers
STEAL0=$(steal_ticks)
{
  echo "# L4 proxy data plane — run $STAMP"
  echo
  machine
  echo "- before the run: loadavg $(cut -d' ' -f1-3 /proc/loadavg); busiest other processes: $(ps -eo pcpu=,comm= --sort=-pcpu | head -3 | awk '{printf "%s %s%%; ", $2, $1}')"
} > "$OUT/header.md"
cat "$OUT/header.md" >&2
setup_backends
for layout in $LAYOUTS; do
  case $layout in
    split)  rows=$ROWS_SPLIT ;;
    shared) rows=$ROWS_SHARED ;;
    *) die "LAYOUTS: split and/or shared, not '$layout'" ;;
  esac
  run_layout "$layout" $rows
done
if [[ $IDLE == 1 ]]; then for row in $IDLE_ROWS; do run_idle "$row" silent; run_idle "$row" request; done; fi
ELAPSED=$(( $(date +%s) - T0 ))
STEAL=$(( $(steal_ticks) - STEAL0 ))
{
  cat "$OUT/header.md"
  echo "- after the run: loadavg $(cut -d' ' -f1-3 /proc/loadavg); steal during the run: $STEAL ticks; measurements repeated because of foreign load: $RETRIED; elapsed ${ELAPSED} s"
  for layout in $LAYOUTS; do
    case $layout in split) rows=$ROWS_SPLIT ;; shared) rows=$ROWS_SHARED ;; esac
    echo
    echo "## $layout layout"
    echo
    table_layout "$layout" $rows
    echo
    echo "Ratios to HAProxy with the same thread/worker count ($layout layout):"
    echo
    table_ratios "$layout" $rows
  done
  if [[ $IDLE == 1 ]]; then
    echo
    echo "## idle connections (split layout, fresh proxy, $IDLE_CONNS_EFF connections, scaled to 10 000)"
    echo
    table_idle
  fi
  echo
  echo "raw: $(realpath --relative-to="$ROOT" "$CSV"), wrk outputs and proxy logs in $(realpath --relative-to="$ROOT" "$LOGS")"
} > "$OUT/table.md"
cp "$OUT/table.md" "$SUMMARY"
cat "$OUT/table.md"
