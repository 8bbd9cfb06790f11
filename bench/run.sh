#!/usr/bin/env bash
# Whole-process benchmarks of moai: wall time (median of RUNS runs) and peak
# memory (max resident set, from GNU time) of the performance workloads,
# with throughput. Usage: bench/run.sh [--large]   (--large adds 10M agents
# and the faults table: 1M agents with loss and on each network, side by
# side with the fault-free run, on 1 and 2 threads).
# MOAI=PATH bench/run.sh [--large] measures the moai at PATH instead.
# Needs bash 5 and GNU time at /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
# MOAI=PATH benchmarks another build (an earlier commit's, for a before and
# after); by default this checkout's, built here.
if [[ -z ${MOAI:-} ]]; then
  cargo build --release --quiet
  MOAI=target/release/moai
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Byzantine at scale: 1,000,000 agents, 5% vote changers, 5% equivocators.
cat > "$TMP/byzantine-1m.toml" <<'TOML'
algorithm = "byzantine"
[byzantine]
fault_tolerance = 333333
num_rounds = 5
[[groups]]
count = 900000
vote = "for"
[[groups]]
count = 50000
vote = "against"
behavior = "flip"
[[groups]]
count = 50000
vote = "against"
behavior = "equivocate"
TOML

# time_runs -- ARGS...: runs moai RUNS times; sets MEDIAN (wall seconds) and
# PEAK (largest max RSS, KiB).
time_runs() {
  shift
  local times=() peak=0
  for _ in $(seq "$RUNS"); do
    # Wall time to the microsecond (GNU time rounds to 10 ms), which
    # includes starting GNU time itself, about a millisecond.
    local start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$TMP/time" "$MOAI" "$@" > /dev/null
    local end=$EPOCHREALTIME
    read -r kb < "$TMP/time"
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.6f", e - s}')")
    (( kb > peak )) && peak=$kb
  done
  MEDIAN=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  PEAK=$peak
}

# measure NAME WORK UNIT -- ARGS...: prints the median wall time of RUNS
# runs, the largest peak RSS and WORK/median UNIT per second.
measure() {
  local name=$1 work=$2 unit=$3
  shift 3
  time_runs "$@"
  local median=$MEDIAN peak=$PEAK
  awk -v n="$name" -v t="$median" -v kb="$peak" -v w="$work" -v u="$unit" 'BEGIN {
    rate = (t > 0) ? w / t : 0
    printf "| %-52s | %7.3f s | %7.1f MiB | %14.3g %s/s |\n", n, t, kb / 1024, rate, u
  }'
}

echo "| workload | wall (median of $RUNS) | peak memory | throughput |"
echo "| --- | --- | --- | --- |"
for threads in 1 2; do
  measure "gossip 1M agents, fanout 5, 20 rounds, $threads thread(s)" $((1000000 * 5 * 20)) "peer contacts" -- \
    gossip --agents 1000000 --approve 750000 --fanout 5 --rounds 20 --no-early-stop --threads "$threads" --format json
done
if [[ ${1:-} == --large ]]; then
  measure "gossip 10M agents, fanout 5, 20 rounds, 2 threads" $((10000000 * 5 * 20)) "peer contacts" -- \
    gossip --agents 10000000 --approve 7500000 --fanout 5 --rounds 20 --no-early-stop --threads 2 --format json
fi
for threads in 1 2; do
  measure "gossip --trials 10000 (20 agents), $threads thread(s)" 10000 "trials" -- \
    gossip --trials 10000 --threads "$threads" --format json
done
measure "byzantine 1M agents, 5% flip, 5% equivocate, 5 rounds" 1000000 "agents" -- \
  run "$TMP/byzantine-1m.toml" --format json

if [[ ${1:-} == --large ]]; then
  # Faults and networks, 1M agents, fanout 5, 20 rounds without early stop:
  # each run's median beside the fault-free run's on as many threads, and
  # its 2-thread median against its 1-thread one. Graph builds included.
  echo
  echo "| 1M agents, fanout 5, 20 rounds | 1 thread | vs fault-free | 2 threads | vs fault-free | 2 threads / 1 | peak memory |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  runs=("fault-free|" "--loss 0.1|--loss 0.1" "--loss 0.5|--loss 0.5"
    "ring, degree 10|--topology ring --degree 10"
    "small-world, degree 10, rewire 0.1|--topology small-world --degree 10 --rewire 0.1"
    "random-regular, degree 10|--topology random-regular --degree 10")
  declare -A base
  for entry in "${runs[@]}"; do
    name=${entry%%|*}
    read -r -a extra <<< "${entry#*|}"
    declare -A took
    for threads in 1 2; do
      time_runs -- gossip --agents 1000000 --approve 750000 --fanout 5 --rounds 20 \
        --no-early-stop --threads "$threads" --format json "${extra[@]}"
      took[$threads]=$MEDIAN
      [[ $name == fault-free ]] && base[$threads]=$MEDIAN
    done
    awk -v n="$name" -v a="${took[1]}" -v b="${took[2]}" -v a0="${base[1]}" -v b0="${base[2]}" -v kb="$PEAK" 'BEGIN {
      printf "| %s | %.3f s | %.2f× | %.3f s | %.2f× | %.2f | %.1f MiB |\n", n, a, a / a0, b, b / b0, b / a, kb / 1024
    }'
  done
fi
