#!/usr/bin/env bash
# Load benchmark: Plume vs Debian's apache2 (event MPM) vs nginx, on
# loopback, with equivalent configurations, in one run. On demand only
# (never in CI); see bench/README.md. Finishes in well under 10 minutes
# with the defaults.
#
#   bench/run.sh                 # everything
#   DURATION=3 REPEATS=1 bench/run.sh
#   SERVERS="apache2 nginx" bench/run.sh   # e.g. while `plume serve` is not ready
#   PLUME_BIN=/path/to/plume bench/run.sh  # instead of building from the tree
#   ONLY='^doc|Allow' bench/run.sh         # only the matching scenarios
#   PORT_BASE=28800 bench/run.sh           # ports PORT_BASE+1..3 (default 18800)
#
# Output: one table (markdown) on stdout; raw wrk/strace output stays in
# $WORK (printed at the end) for inspection.
set -euo pipefail

DURATION=${DURATION:-5}          # seconds per wrk run
REPEATS=${REPEATS:-3}            # wrk runs per scenario; the median is reported
CONNS=${CONNS:-32}               # concurrent connections
STRACE_SECS=${STRACE_SECS:-2}    # seconds of one-connection load counted under strace -c
MV_REQUESTS=${MV_REQUESTS:-1000} # requests of the MultiViews directory-syscall count (issue #8)
ONLY=${ONLY:-}                   # extended regex: run only the scenarios whose name matches
SERVERS=${SERVERS:-"plume apache2 nginx"}
SERVER_CPU=${SERVER_CPU:-0}      # servers pinned here, wrk on LOAD_CPU
LOAD_CPU=${LOAD_CPU:-1}
RUN_USER=${RUN_USER:-www-data}

repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in wrk strace taskset nginx /usr/sbin/apache2; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing (./test.sh installs it)" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then SERVER_CPU=0; LOAD_CPU=0; fi

# Not under /tmp by default: Plume's walk watches every directory of a
# served path with inotify, and /tmp is busy with other work (builds,
# tests), whose events would cost Plume a read(2) per request that no
# real document root causes.
BENCH_ROOT=${BENCH_ROOT:-/var/tmp}
WORK=$(mktemp -d "$BENCH_ROOT/plume-bench-XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM -- "-$p" 2>/dev/null || true
  done
  sleep 0.5
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -KILL -- "-$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------- the tree
H=$WORK/htdocs
mkdir -p "$H/fast/a/b/c/d/e/f/g" "$H/slow/a/b/c/d/e/f/g" "$H/mv" "$H/tm" "$H/hostallow" "$H/allowall" "$WORK/logs"
head -c 6144 /dev/urandom | base64 -w 76 | head -c 6144 > "$H/6k.html"
head -c 1048576 /dev/urandom > "$H/1m.bin"
cp "$H/6k.html" "$H/fast/a/b/c/d/e/f/g/page.html"
cp "$H/6k.html" "$H/slow/a/b/c/d/e/f/g/page.html"
# The SLOW tree has an .htaccess at every level, as sites that use them do.
for d in slow slow/a slow/a/b slow/a/b/c slow/a/b/c/d slow/a/b/c/d/e slow/a/b/c/d/e/f slow/a/b/c/d/e/f/g; do
  printf 'DirectoryIndex index.html\n' > "$H/$d/.htaccess"
done
# One document three ways: MultiViews (mv/doc), a type map (tm/doc.var,
# in its own directory: a map among MultiViews files would win there) and
# the file itself (mv/doc.html.en).
for d in mv tm; do
  cp "$H/6k.html" "$H/$d/doc.html.en"
  cp "$H/6k.html" "$H/$d/doc.html.fr"
done
printf 'URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n\nURI: doc.html.fr\nContent-Type: text/html\nContent-Language: fr\n' > "$H/tm/doc.var"
# The host-name Allow and its "Allow from all" twin: same file, same
# depth, only the access rule differs.
cp "$H/6k.html" "$H/hostallow/page.html"
cp "$H/6k.html" "$H/allowall/page.html"
chown -R "$RUN_USER" "$WORK"

PORT_BASE=${PORT_BASE:-18800}
PORT_plume=$((PORT_BASE + 1)); PORT_apache2=$((PORT_BASE + 2)); PORT_nginx=$((PORT_BASE + 3))

# One httpd configuration for Plume and Apache: Plume runs Apache configs.
httpd_conf() { # $1 = port
  cat <<EOF
ServerRoot "$WORK"
PidFile "$WORK/logs/httpd-$1.pid"
ErrorLog "$WORK/logs/error-$1.log"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule access_compat_module /usr/lib/apache2/modules/mod_access_compat.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule negotiation_module /usr/lib/apache2/modules/mod_negotiation.so
TypesConfig /etc/mime.types
AddLanguage en .en
AddLanguage fr .fr
AddHandler type-map .var
User $RUN_USER
Group $(id -gn "$RUN_USER")
ServerName 127.0.0.1
Listen 127.0.0.1:$1
KeepAlive On
MaxKeepAliveRequests 0
DocumentRoot "$H"
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<Directory "$H">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
# FAST: the cheapest walk Apache has (no lstat per component, no .htaccess).
<Directory "$H/fast">
    Options FollowSymLinks
    AllowOverride None
</Directory>
# SLOW: an lstat per component and an .htaccess lookup per directory.
<Directory "$H/slow">
    Options SymLinksIfOwnerMatch
    AllowOverride All
</Directory>
<Directory "$H/mv">
    Options +MultiViews
</Directory>
# Host-name Allow: forces double-reverse DNS of the client.
<Directory "$H/hostallow">
    Order deny,allow
    Deny from all
    Allow from localhost
</Directory>
# Its twin: the same rule shape without the DNS.
<Directory "$H/allowall">
    Order deny,allow
    Deny from all
    Allow from all
</Directory>
EOF
}

nginx_conf() {
  cat <<EOF
daemon off;
worker_processes 1;
user $RUN_USER;
pid $WORK/logs/nginx.pid;
error_log $WORK/logs/nginx-error.log;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/logs/nginx-body;
    proxy_temp_path $WORK/logs/nginx-proxy;
    fastcgi_temp_path $WORK/logs/nginx-fastcgi;
    uwsgi_temp_path $WORK/logs/nginx-uwsgi;
    scgi_temp_path $WORK/logs/nginx-scgi;
    server {
        listen 127.0.0.1:$PORT_nginx;
        root $H;
        location / { }
    }
}
EOF
}

httpd_conf $PORT_plume > "$WORK/plume.conf"
httpd_conf $PORT_apache2 > "$WORK/apache2.conf"
nginx_conf > "$WORK/nginx.conf"

# ------------------------------------------------------------- the servers
if [[ " $SERVERS " == *" plume "* ]]; then
  if [ -z "${PLUME_BIN:-}" ]; then
    PLUME_BIN=$WORK/plume
    (cd "$repo" && go build -o "$PLUME_BIN" .)
  fi
fi

start() { # $1 = server name; sets PID_<name>
  local name=$1 cmd
  local port_var="PORT_$name"
  # A server already on the port would answer in this one's place.
  if (exec 3<>"/dev/tcp/127.0.0.1/${!port_var}") 2>/dev/null; then
    echo "bench: port ${!port_var} is already in use (set PORT_BASE)" >&2
    return 1
  fi
  case $name in
    plume)   cmd=("$PLUME_BIN" serve -f "$WORK/plume.conf") ;;
    apache2) cmd=(/usr/sbin/apache2 -f "$WORK/apache2.conf" -DFOREGROUND) ;;
    nginx)   cmd=(nginx -c "$WORK/nginx.conf" -p "$WORK") ;;
  esac
  setsid taskset -c "$SERVER_CPU" "${cmd[@]}" >"$WORK/logs/$name.out" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "PID_$name=$pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${!port_var}") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "bench: $name did not start; its output:" >&2
  cat "$WORK/logs/$name.out" >&2
  return 1
}

# Every process of a server (the leader and its descendants).
tree_pids() {
  local p=$1
  echo "$p"
  for c in $(pgrep -P "$p" 2>/dev/null); do tree_pids "$c"; done
}

rss_mib() {
  local total=0 kb
  for p in $(tree_pids "$1"); do
    kb=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  awk -v k="$total" 'BEGIN{printf "%.1f", k/1024}'
}

# --------------------------------------------------------------- scenarios
# name | path | extra header | servers that have an equivalent
SCENARIOS=(
  "6KiB keep-alive|/6k.html||plume apache2 nginx"
  "1MiB keep-alive|/1m.bin||plume apache2 nginx"
  "7-deep FAST|/fast/a/b/c/d/e/f/g/page.html||plume apache2 nginx"
  "7-deep SLOW|/slow/a/b/c/d/e/f/g/page.html||plume apache2"
  "doc: MultiViews|/mv/doc|Accept-Language: en|plume apache2"
  "doc: type map|/tm/doc.var|Accept-Language: en|plume apache2"
  "doc: direct file|/mv/doc.html.en|Accept-Language: en|plume apache2 nginx"
  "host-name Allow|/hostallow/page.html||plume apache2"
  "Allow from all|/allowall/page.html||plume apache2"
  # Last: it leaves thousands of sockets in TIME_WAIT behind it.
  "6KiB Connection: close|/6k.html|Connection: close|plume apache2 nginx"
)

to_ms() { # wrk prints 1.23ms, 456.00us, 1.02s
  awk -v v="$1" 'BEGIN{
    if (v ~ /us$/) { sub(/us$/,"",v); printf "%.3f", v/1000 }
    else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.3f", v*1000 }
    else print "?" }'
}

median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "0"; else print a[int((NR+1)/2)] }'; }

# The issue's acceptance count: MV_REQUESTS requests for /mv/doc over one
# keep-alive connection in steady state, every process of the server
# traced; getdents64 calls, and openat/openat2 calls naming the directory.
# (The trace goes to logs/, a directory no request walks: a file written
# in a watched directory would feed inotify events back into the trace.)
mv_syscalls() { # $1 = server, $2 = pid, $3 = port
  local s=$1 pid=$2 port=$3 list=$WORK/logs/mv-urls.txt out=$WORK/logs/mv-strace-$1.txt pids stpid
  : >"$list"
  for _ in $(seq 1 "$MV_REQUESTS"); do
    printf 'url = "http://127.0.0.1:%s/mv/doc"\noutput = "/dev/null"\n' "$port" >>"$list"
  done
  curl -s -H 'Accept-Language: en' -K "$list" >/dev/null || true # warm-up
  pids=$(tree_pids "$pid" | paste -sd, -)
  strace -f -qq -e trace=getdents64,openat,openat2,open,newfstatat,statx,stat,lstat -o "$out" -p "$pids" 2>/dev/null &
  stpid=$!
  sleep 1
  curl -s -H 'Accept-Language: en' -K "$list" -w '%{http_code}\n' >"$out.codes" || true
  sleep 0.3
  kill -INT "$stpid" 2>/dev/null || true
  wait "$stpid" 2>/dev/null || true
  MVREQ[$s]=$(grep -c '^200$' "$out.codes" || true)
  MVGETDENTS[$s]=$(grep -c 'getdents64(' "$out" || true)
  # Opens of the directory to read it, and O_PATH opens (a handle for
  # *at calls, which cannot read entries: Plume's walk of the missing
  # /mv/doc resolves its parent that way).
  MVOPENDIR[$s]=$(grep -E 'open(at2?)?\(' "$out" | grep -E "\"$H/mv/?\"" | grep -vc 'O_PATH' || true)
  MVOPENDIRPATH[$s]=$(grep -E 'open(at2?)?\(' "$out" | grep -E "\"$H/mv/?\"" | grep -c 'O_PATH' || true)
  MVOPEN[$s]=$(grep -cE 'open(at2?)?\(' "$out" || true)
  MVSTATDIR[$s]=$(grep -E 'stat[a-z]*\(' "$out" | grep -cE "\"$H/mv/?\"" || true)
}

declare -A RPS P50 P99 RSS SYS MVREQ MVGETDENTS MVOPENDIR MVOPENDIRPATH MVOPEN MVSTATDIR
for s in $SERVERS; do
  start "$s" || { echo "bench: skipping $s" >&2; continue; }
  pid_var="PID_$s"; pid=${!pid_var}; port_var="PORT_$s"; port=${!port_var}
  # Warm up caches (page cache, DNS for the host-name rule).
  for sc in "${SCENARIOS[@]}"; do
    IFS='|' read -r _ path hdr _ <<<"$sc"
    curl -s -o /dev/null ${hdr:+-H "$hdr"} "http://127.0.0.1:$port$path" || true
  done
  for sc in "${SCENARIOS[@]}"; do
    IFS='|' read -r name path hdr who <<<"$sc"
    [[ " $who " == *" $s "* ]] || continue
    if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then continue; fi
    key="$name|$s"
    rps_list=""; p50_list=""; p99_list=""
    for r in $(seq 1 "$REPEATS"); do
      sleep 0.5 # let the previous run's sockets drain
      out=$WORK/wrk-$s-$(echo "$name" | tr -c 'A-Za-z0-9' '_')-$r.txt
      taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency ${hdr:+-H "$hdr"} \
        "http://127.0.0.1:$port$path" >"$out" 2>&1 || true
      rps_list+="$(awk '/^Requests\/sec:/{print $2}' "$out") "
      p50_list+="$(to_ms "$(awk '$1=="50%"{print $2}' "$out")") "
      p99_list+="$(to_ms "$(awk '$1=="99%"{print $2}' "$out")") "
      if grep -q 'Non-2xx' "$out"; then echo "bench: warning: $key answered non-2xx (see $out)" >&2; fi
    done
    RPS[$key]=$(echo "$rps_list" | tr ' ' '\n' | { grep . || true; } | median)
    P50[$key]=$(echo "$p50_list" | tr ' ' '\n' | { grep . || true; } | median)
    P99[$key]=$(echo "$p99_list" | tr ' ' '\n' | { grep . || true; } | median)
    RSS[$key]=$(rss_mib "$pid")
    # Syscalls per request: strace -f -c over every process and thread of
    # the server during a short one-connection wrk run; the total count
    # is divided by the requests wrk completed (idle wake-ups included).
    st=$WORK/strace-$s-$(echo "$name" | tr -c 'A-Za-z0-9' '_').txt
    pids=$(tree_pids "$pid" | paste -sd, -)
    strace -f -c -o "$st" -p "$pids" 2>/dev/null &
    stpid=$!
    sleep 1
    taskset -c "$LOAD_CPU" wrk -t1 -c1 -d"${STRACE_SECS}s" ${hdr:+-H "$hdr"} \
      "http://127.0.0.1:$port$path" >"$st.wrk" 2>&1 || true
    sleep 0.2
    kill -INT "$stpid" 2>/dev/null || true
    wait "$stpid" 2>/dev/null || true
    # The summary line is "100.00 secs usecs/call calls [errors] total".
    calls=$(awk '$NF=="total"{print $4}' "$st" 2>/dev/null || echo "")
    reqs=$(awk '/requests in/{print $1}' "$st.wrk" 2>/dev/null || echo "")
    SYS[$key]=$(awk -v c="${calls:-0}" -v n="${reqs:-0}" 'BEGIN{ if (c>0 && n>0) printf "%.1f", c/n; else print "?" }')
  done
  if [ "$s" != nginx ] && { [ -z "$ONLY" ] || [[ "doc: MultiViews" =~ $ONLY ]]; }; then mv_syscalls "$s" "$pid" "$port"; fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$pid" 2>/dev/null || true
done

# ------------------------------------------------------------------ report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "–" }'; }
echo
echo "Plume load benchmark — $(date -u '+%Y-%m-%d %H:%M UTC') — $(uname -srm), $(nproc) CPUs ($(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | sed 's/^ *//'))"
echo "wrk -t1 -c$CONNS, ${DURATION}s x $REPEATS (median), servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU; syscalls: strace -f -c during ${STRACE_SECS}s of one-connection load"
echo
echo "| scenario | server | req/s | p50 ms | p99 ms | RSS MiB | syscalls/req | req/s Plume/Apache | req/s Plume/nginx |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for sc in "${SCENARIOS[@]}"; do
  IFS='|' read -r name _ _ who <<<"$sc"
  for s in $SERVERS; do
    key="$name|$s"
    [ -n "${RPS[$key]:-}" ] || continue
    ra="" rn=""
    if [ "$s" = plume ]; then
      ra=$(ratio "${RPS[$key]}" "${RPS[$name|apache2]:-0}")
      rn=$(ratio "${RPS[$key]}" "${RPS[$name|nginx]:-0}")
    fi
    echo "| $name | $s | ${RPS[$key]} | ${P50[$key]} | ${P99[$key]} | ${RSS[$key]} | ${SYS[$key]} | $ra | $rn |"
  done
done
echo
echo "MultiViews directory syscalls: strace -f over $MV_REQUESTS keep-alive requests for /mv/doc in steady state"
echo
echo "| server | 200 answers | getdents64 | opens of the directory to read it | O_PATH opens of the directory | stats of the directory | all opens |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for s in $SERVERS; do
  [ -n "${MVREQ[$s]:-}" ] || continue
  echo "| $s | ${MVREQ[$s]} | ${MVGETDENTS[$s]} | ${MVOPENDIR[$s]} | ${MVOPENDIRPATH[$s]} | ${MVSTATDIR[$s]} | ${MVOPEN[$s]} |"
done
# Ratios within the run: MultiViews and the type map against the file.
echo
for s in $SERVERS; do
  d=${RPS[doc: direct file|$s]:-}
  [ -n "$d" ] || continue
  [ "$s" = nginx ] && continue
  echo "$s: MultiViews/direct $(ratio "${RPS[doc: MultiViews|$s]:-0}" "$d"), type map/direct $(ratio "${RPS[doc: type map|$s]:-0}" "$d"), host-name Allow/Allow from all $(ratio "${RPS[host-name Allow|$s]:-0}" "${RPS[Allow from all|$s]:-0}")"
done
echo
echo "raw output: $WORK"
trap - EXIT
cleanup
