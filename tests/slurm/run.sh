#!/usr/bin/env bash
# A real Slurm cluster on localhost runs examples/slurm-sweep.sbatch as a
# 4-task job array; `moai merge` of its 4 parts must print the same bytes as
# the unsharded run, in JSON and as a table.
#
#   tests/slurm/run.sh            (as root; MOAI=path/to/moai, default target/debug/moai)
#
# Needs Debian's slurm-wlm and munge installed (it installs nothing):
#   apt-get install slurm-wlm munge
# Everything it starts is its own: a munged on its own socket and key, a
# slurmctld and a slurmd on free ports, with their config, state, spool and
# logs in one `mktemp -d` directory. The system's munge and Slurm (if any) are
# neither used nor touched. Each daemon runs in the foreground (-F / -D) as a
# background job of this script, and is stopped by its pid on exit.
#
# Exit codes: 0 when the merged output equals the unsharded one; 77 when it
# cannot run here (Slurm or munge missing, not root), with the reason on
# stderr; 1 with a one-line reason on stderr otherwise (the temporary
# directory is then kept, for its logs, and named in that line).
#
# The settings of the sweep (small, so that the whole run takes seconds) can
# be changed through the variables examples/slurm-sweep.sbatch reads:
# MOAI_SCENARIO, MOAI_TRIALS, MOAI_SWEEP, MOAI_ARGS.
#
# Pitfalls met on the way, each handled below:
# - munged refuses a key file that is not owned by the user it runs as, or
#   that others can read, and a socket directory that others can write: the
#   key the package makes (/etc/munge/munge.key) belongs to the `munge` user,
#   so a munged run as root cannot use it. Hence a fresh key (0600, root) in
#   the 0700 temporary directory, and `AuthInfo=socket=...` so that Slurm's
#   daemons and commands all talk to this munged, not to the system's socket.
#   munged's foreground flag is -F, not -D.
# - slurmctld only runs where `SlurmctldHost` names this machine by its short
#   host name (`hostname -s`), and slurmd finds its NodeName the same way
#   (else "Unable to determine this slurmd's NodeName"): both are written
#   from `hostname -s`, with the address pinned to 127.0.0.1 so that the name
#   need not resolve.
# - A node whose slurm.conf line declares more CPUs, sockets, cores or memory
#   than slurmd finds is set DRAIN ("Low RealMemory", "Low socket*core*thread
#   count"), and one that declares less wastes the rest: the node line is
#   `slurmd -C`'s own, without RealMemory (memory is not a consumable
#   resource here; the default of 1 MB can never be too much).
# - proctrack/cgroup and task/cgroup (the package's usual choices) need a
#   cgroup tree that systemd delegates; in a container or without systemd
#   slurmd dies on start. proctrack/linuxproc and task/none need no cgroups
#   (Slurm 22.05 then reads no cgroup.conf); jobacct_gather/none and
#   accounting_storage/none mean no slurmdbd and no database.
# - Every Slurm command (sinfo, sbatch, squeue, scontrol) must see this
#   cluster's config: SLURM_CONF is exported, and sbatch passes it on to the
#   job with the rest of the environment.
# - A fresh slurmd registers some seconds after it starts; until then the
#   node is `unk*` or `down*`: wait for `idle` before submitting.
#   ReturnToService=2 lets a node that was down come back by itself.
# - Without accounting, a finished job leaves squeue at once; its tasks'
#   states stay in `scontrol show job` for MinJobAge seconds (300 by
#   default), which is where they are checked.
# - `sbatch --wait` polls with growing sleeps (seconds), which would inflate
#   the timing; squeue is polled every 0.1 s instead.
# - With its default scheduler settings, slurmctld starts a runnable batch
#   job 1.5 to 2 s after it became runnable (at submission, and when a task
#   frees a CPU): 4 one-CPU tasks on 2 CPUs spend about 3.5 s waiting for
#   the scheduler on top of their work. That is Slurm's cost, left as it is.
# - Jobs submitted by root run as root; Slurm allows it.
# - A Slurm command whose controller is gone does not fail: it retries for
#   minutes (squeue, scancel). Each one runs under `timeout`, and the daemons
#   are checked to be alive on every poll.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
export PATH="$PATH:/usr/sbin:/sbin"

# Why it cannot run here, with what it needs, on one line.
skip() {
  echo "tests/slurm/run.sh: skipped: $*; it runs as root with Debian's Slurm and munge installed (\`apt-get install slurm-wlm munge\`, as root)" >&2
  exit 77
}
tmp=""
fail() {
  echo "tests/slurm/run.sh: $*${tmp:+ (logs in $tmp)}" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || skip "not root"
for command in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$command" >/dev/null \
    || skip "$command not found"
done

moai=${MOAI:-target/debug/moai}
[ -x "$moai" ] || fail "MOAI=$moai is not an executable file (build it with cargo build)"
moai=$(realpath "$moai")

scenario=${MOAI_SCENARIO:-gossip-swarm}
# A scenario file is named by its absolute path: the job runs elsewhere.
if [ -f "$scenario" ]; then scenario=$(realpath "$scenario"); fi
trials=${MOAI_TRIALS:-40}
sweep=${MOAI_SWEEP:-fanout=2,3,4,5}
if [ -n "${MOAI_ARGS+set}" ]; then extra=$MOAI_ARGS; else extra="--agents 2000"; fi
read -r -a extra_args <<<"$extra"
export MOAI="$moai" MOAI_SCENARIO="$scenario" MOAI_TRIALS="$trials" MOAI_SWEEP="$sweep" \
  MOAI_ARGS="$extra"

# Seconds allowed for each wait.
node_timeout=60
job_timeout=300

pids=()
job=""
# The processes this cluster left behind, by pid: the job steps that slurmd
# started in sessions of their own (slurmstepd and the job's processes), which
# outlive a slurmd stopped while a job runs. They are told from every other
# process by the SLURM_CONF in their environment, which names this script's
# own temporary directory; this script's own session is left out.
leftovers() {
  local environ pid session
  session=$(ps -o sid= -p $$ | tr -d ' ')
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    grep -qxzF "SLURM_CONF=$SLURM_CONF" "$environ" 2>/dev/null || continue
    [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$session" ] || echo "$pid"
  done
}
# Stops process $1: SIGTERM, 10 s to exit, then SIGKILL.
stop() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
}
cleanup() {
  status=$?
  set +e
  # A job still queued or running is cancelled, and given 15 s to go.
  if [ -n "$job" ]; then
    timeout 10 scancel "$job" 2>/dev/null
    for _ in $(seq 150); do
      queued=$(timeout 10 squeue -h -j "$job" -o %i 2>/dev/null) && [ -z "$queued" ] && break
      sleep 0.1
    done
  fi
  # The daemons, in the reverse order of their start (slurmd, slurmctld,
  # munged), each by its pid.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    stop "${pids[i]}"
    wait "${pids[i]}" 2>/dev/null
  done
  if [ -n "${SLURM_CONF:-}" ]; then
    for pid in $(leftovers); do
      stop "$pid"
    done
  fi
  if [ -n "$tmp" ] && [ "$status" -eq 0 ]; then
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

tmp=$(mktemp -d /tmp/moai-slurm.XXXXXX)
mkdir -p "$tmp"/{munge,state,spool,log,work}
# munged wants every directory on the way to its socket searchable by all
# ("Socket is inaccessible: execute permissions for all required"), and
# mktemp -d makes its directory 0700.
chmod 0755 "$tmp" "$tmp/munge"

# A free TCP port on localhost, not one of those already chosen ($@).
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 20000))
    case " $* " in *" $port "*) continue ;; esac
    # A connection succeeds only when something listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  fail "no free TCP port found"
}
ctld_port=$(free_port)
slurmd_port=$(free_port "$ctld_port")

host=$(hostname -s)
node_line=$(slurmd -C | head -n 1 | sed -E 's/ RealMemory=[0-9]+//')
case "$node_line" in
  "NodeName=$host "*) ;;
  *) fail "slurmd -C describes '$node_line', not this host ($host)" ;;
esac

munge_socket=$tmp/munge/munge.socket.2
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=moai-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=moai Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# munge: a fresh key for this cluster alone.
mungekey --create --keyfile="$tmp/munge/munge.key" >/dev/null 2>&1 \
  || fail "mungekey could not create a key"
chmod 0600 "$tmp/munge/munge.key"
munged -F --socket="$munge_socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
  --seed-file="$tmp/munge/munged.seed" >>"$tmp/log/munged.out" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 10))
while [ "$SECONDS" -lt "$deadline" ]; do
  [ -S "$munge_socket" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || fail "munged exited: $(tail -n 1 "$tmp/log/munged.out")"
  sleep 0.1
done
[ -S "$munge_socket" ] || fail "munged made no socket within 10 s"

slurmctld -D -f "$SLURM_CONF" >>"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)

# Fails when one of the daemons has exited.
alive() {
  local pid
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a daemon exited (pid $pid): see its log"
  done
}

# The node must be idle (registered, nothing running) before the job goes in.
state=""
deadline=$((SECONDS + node_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  alive
  state=$(timeout 10 sinfo -h -N -n "$host" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
[ "$state" = idle ] || fail "node $host not idle after ${node_timeout} s (state: ${state:-none})"

# The sharded run: submission to the last part written.
cd "$tmp/work"
start=$(date +%s.%N)
job=$(timeout 10 sbatch --parsable "$repo/examples/slurm-sweep.sbatch") \
  || fail "sbatch refused the job"
job=${job%%;*}
done_at=""
deadline=$((SECONDS + job_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  alive
  # Done when squeue answers and lists none of the job's tasks.
  if queued=$(timeout 10 squeue -h -j "$job" -o %i 2>/dev/null) && [ -z "$queued" ]; then
    done_at=$(date +%s.%N)
    break
  fi
  sleep 0.1
done
[ -n "$done_at" ] || fail "job array $job not finished after ${job_timeout} s"

# Every task must have completed; a failed one is named with its output.
tasks=$(timeout 10 scontrol -o show job "$job" 2>/dev/null) || fail "scontrol knows no job $job"
completed=$(grep -c 'JobState=COMPLETED ' <<<"$tasks" || true)
if [ "$completed" -ne 4 ]; then
  bad=$(grep -v 'JobState=COMPLETED ' <<<"$tasks" | head -n 1)
  id=$(sed -nE 's/.* ArrayTaskId=([0-9]+) .*/\1/p' <<<"$bad")
  what=$(sed -nE 's/.*(JobState=[A-Z_]+).*(ExitCode=[0-9:]+).*/\1 \2/p' <<<"$bad")
  out=$(head -n 1 "slurm-${job}_${id}.out" 2>/dev/null || true)
  fail "$completed of 4 array tasks completed; task ${id:-?}: ${what:-?}: ${out:-no output}"
fi
job=""
parts=$(find parts -name 'part-*.json' | wc -l)
[ "$parts" -eq 4 ] || fail "$parts parts written, not 4"

# The unsharded run, timed the same way (one process, every core).
single_start=$(date +%s.%N)
"$moai" gossip "$scenario" --trials "$trials" --sweep "$sweep" "${extra_args[@]}" \
  --format json >single.json || fail "the unsharded run failed"
single_end=$(date +%s.%N)
"$moai" gossip "$scenario" --trials "$trials" --sweep "$sweep" "${extra_args[@]}" \
  >single.txt || fail "the unsharded run (table) failed"

merge_start=$(date +%s.%N)
"$moai" merge parts/ --format json >merged.json 2>merge.err \
  || fail "moai merge --format json failed: $(head -n 1 merge.err)"
merge_end=$(date +%s.%N)
"$moai" merge parts/ >merged.txt 2>merge.err \
  || fail "moai merge failed: $(head -n 1 merge.err)"
cmp -s merged.json single.json \
  || fail "merged JSON differs from the unsharded run: $(cmp merged.json single.json 2>&1 | head -n 1)"
cmp -s merged.txt single.txt \
  || fail "merged table differs from the unsharded run: $(cmp merged.txt single.txt 2>&1 | head -n 1)"

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
echo "moai gossip $scenario --trials $trials --sweep $sweep $extra"
echo "sharded: 4 Slurm array tasks on $(nproc) cores, submission to the last part: $(seconds "$start" "$done_at") s"
echo "merge: $(seconds "$merge_start" "$merge_end") s"
echo "unsharded: one process: $(seconds "$single_start" "$single_end") s"
echo "moai merge parts/ equals the unsharded run, byte for byte, in JSON and as a table"
