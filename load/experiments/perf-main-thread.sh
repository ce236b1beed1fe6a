#!/bin/bash
# What the nodes' thread spends its time on a core doing, by Linux perf, beside V8's own profile of the same run.
#
#   bash load/experiments/perf-main-thread.sh DIR            # one flash sale; writes DIR/main.data, DIR/*.cpuprofile
#   bash load/experiments/perf-main-thread.sh DIR FROM TO    # classify DIR/main.data between two CLOCK_MONOTONIC seconds
#
# Why: V8's sampler takes its samples on wall time, so a thread that waits for a core is sampled where it stopped,
# and a thread preempted right after a socket write (the write woke the reader, which took the core) shows that
# wait as `writev`. perf's cpu-clock samples only a thread that is on a core. Both record on CLOCK_MONOTONIC, so
# `node load/../cpuprofile-top.ts` windows and this one line up: pick the rush from the V8 profile's per-second busy
# share (its startTime is on the same clock, in microseconds), then classify that window here.
set -euo pipefail
dir=${1:?usage: perf-main-thread.sh DIR [FROM TO]}
if [ $# -ge 3 ]; then
  perf script -i "$dir/main.data" -F time,ip,sym 2>/dev/null | awk -v from="$2" -v to="$3" '
    function count() { if (have && inwin) { tot++; c[cat]++ } }
    /^ *[0-9]+\.[0-9]+: *$/ { count(); have = 1; t = $1 + 0; inwin = (t >= from && t < to); cat = "user space (JS, V8, libuv)"; next }
    /do_writev|__x64_sys_writev/ { if (cat ~ /^user/) cat = "writev (socket writes)" }
    /ksys_write|__x64_sys_write$/ { if (cat ~ /^user/) cat = "write (socket writes)" }
    /ksys_read|__x64_sys_read$|sys_recvfrom/ { if (cat ~ /^user/) cat = "read" }
    /do_epoll_wait|__x64_sys_epoll/ { if (cat ~ /^user/) cat = "epoll" }
    /entry_SYSCALL|do_syscall_64/ { if (cat ~ /^user/) cat = "other system calls" }
    /asm_sysvec|asm_common_interrupt|irq_exit/ { if (cat ~ /^user/) cat = "interrupts" }
    END {
      count()
      for (k in c) printf "%-28s %6d samples %5.1f%% of its time on a core\n", k, c[k], 100 * c[k] / tot
      printf "on a core: %d samples at 499 Hz over %s s = %.1f%% of the window\n", tot, to - from, 100 * tot / 499 / (to - from)
    }'
  exit 0
fi
mkdir -p "$dir"
node --cpu-prof --cpu-prof-dir="$dir" --import tsx load/cli.ts flash-sale --duration 20 --baseline false --progress false --write false > "$dir/out.txt" 2>&1 &
sleep 1.5
pid=$(pgrep -f "cpu-prof-dir=$dir" | head -1)
# -t: the main thread only (its task id is the process id): the nodes run there.
perf record -k CLOCK_MONOTONIC -F 499 -t "$pid" -g -o "$dir/main.data" > /dev/null 2>&1 &
perf_pid=$!
wait %1
kill -INT "$perf_pid"
wait
echo "recorded $dir/main.data (pid $pid); V8 profiles in $dir"
