#!/usr/bin/env bash
# How far `--exact` reaches: wall time and peak memory (GNU time) of the
# exact gossip law on the complete network as the swarm grows, for the
# hardest starts (52% of the voters for, the rest against; with abstainers,
# 35% of the swarm abstaining), fanout 5, 30 rounds without early stop; and
# of the exact Byzantine law with half the swarm random voters.
# Usage: bench/exact.sh [N...]   Needs GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
MOAI=target/release/moai
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# scenario FILE N ABSTAINING: a gossip swarm of N agents, ABSTAINING of them
# abstaining, 52% of the others for.
scenario() {
  local file=$1 n=$2 abstaining=$3
  local voters=$((n - abstaining))
  local for=$((voters * 52 / 100))
  {
    echo 'algorithm = "gossip"'
    echo '[gossip]'
    echo 'fanout = 5'
    echo 'max_rounds = 30'
    echo 'early_stop = false'
    printf '[[groups]]\ncount = %d\nvote = "for"\n' "$for"
    printf '[[groups]]\ncount = %d\nvote = "against"\n' "$((voters - for))"
    if [ "$abstaining" -gt 0 ]; then
      printf '[[groups]]\ncount = %d\nvote = "abstain"\n' "$abstaining"
    fi
  } > "$file"
}

# run LABEL ARGS...: one line: label, seconds, peak MiB, or the refusal.
run() {
  local label=$1
  shift
  if /usr/bin/time -f '%e %M' -o "$TMP/time" "$MOAI" "$@" --format json > /dev/null 2> "$TMP/err"; then
    read -r seconds kib < "$TMP/time"
    printf '%-34s %8s s %8s MiB\n' "$label" "$seconds" "$((kib / 1024))"
  else
    printf '%-34s refused: %s\n' "$label" "$(grep -v '^Command exited' "$TMP/err" | head -1)"
  fi
}

for n in "${@:-1000 2000 3000 4000 5000}"; do
  scenario "$TMP/plain.toml" "$n" 0
  run "gossip, $n agents" gossip "$TMP/plain.toml" --exact
done
for n in 100 150 200 250 300 400; do
  scenario "$TMP/abstain.toml" "$n" $((n * 35 / 100))
  run "gossip, $n agents, 35% abstaining" gossip "$TMP/abstain.toml" --exact
done
for n in 10000 50000 100000; do
  run "byzantine, $n agents, half random" byzantine --agents "$n" --approve "$n" \
    --faulty $((n / 2)) --behavior random --fault-tolerance $(((n - 1) / 3)) --exact
done
