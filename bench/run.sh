#!/usr/bin/env bash
# Whole-process benchmarks of moai: wall time (median of RUNS runs) and peak
# memory (max resident set, from GNU time) of the performance workloads,
# with throughput. Usage: bench/run.sh [--large]   (--large adds 10M agents)
# Needs bash 5 and GNU time at /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release --quiet
MOAI=target/release/moai
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

# measure NAME WORK UNIT -- ARGS...: runs moai RUNS times, prints the median
# wall time, the largest peak RSS and WORK/median UNIT per second.
measure() {
  local name=$1 work=$2 unit=$3
  shift 4
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
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
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
