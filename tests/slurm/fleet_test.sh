#!/usr/bin/env bash
# The README's fleet on a real Slurm: a single-node cluster on this machine (munged, slurmctld
# and slurmd on loopback, everything in a temporary directory), the job array of
# tools/slurm/sweep-array.sh for 3 shards of a tiny sweep, the merge as a job that depends on it
# (as the README shows), and then: the merged results hold exactly the cases of the unsharded
# sweep, each once. Exit 77 (ctest: skipped) with the reason when Slurm cannot run here; the
# daemons are stopped whatever happens.
#   fleet_test.sh MOETUNE_BINARY SOURCE_DIR
set -uo pipefail
moetune=$1
src=$2
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }

# The README quotes the job script; the test runs the file, so the two must agree.
while IFS= read -r line; do
  [ -z "$line" ] && continue
  grep -qxF -- "$line" "$src/README.md" || fail "README.md does not quote this line of tools/slurm/sweep-array.sh: $line"
done < "$src/tools/slurm/sweep-array.sh"

need=(munged slurmctld slurmd sbatch squeue sinfo scancel)
missing() { for b in "${need[@]}"; do command -v "$b" >/dev/null 2>&1 || { echo "$b"; return; }; done; }
if [ -n "$(missing)" ]; then
  # Debian's packages, when this is a root shell that can install them (CI's is).
  [ "$(id -u)" -eq 0 ] || skip "$(missing) not found and not root: apt-get install slurm-wlm munge"
  command -v apt-get >/dev/null || skip "$(missing) not found and no apt-get to install slurm-wlm munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge \
    >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge \
      >/dev/null 2>&1; } || skip "apt-get install slurm-wlm munge failed"
  [ -z "$(missing)" ] || skip "$(missing) still not found after installing slurm-wlm and munge"
fi
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to launch jobs (SlurmdUser=root), and this is uid $(id -u)"

tmp=$(mktemp -d /tmp/moetune_slurm.XXXXXX)
pids=()
cleanup() {
  [ -f "$tmp/slurm.conf" ] && SLURM_CONF=$tmp/slurm.conf scancel --quiet --user=root 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
logs() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; }

# munge: its own key and socket; -f because /tmp is not the directory munged would choose.
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/run/logs"
dd if=/dev/urandom of="$tmp/munge/key" bs=128 count=1 status=none
chmod 600 "$tmp/munge/key"
munged -f -F --socket="$tmp/munge/sock" --key-file="$tmp/munge/key" --pid-file="$tmp/munge/pid" \
  --seed-file="$tmp/munge/seed" --log-file="$tmp/munge/log" >"$tmp/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge/sock" ] && break; sleep 0.1; done
[ -S "$tmp/munge/sock" ] || { logs "$tmp/munged.out"; skip "munged did not start"; }

# Ports of our own, so that a second run or another cluster on this machine does not collide.
port=$((20000 + ($$ % 20000) * 2))
host=$(hostname -s)
cpus=$(nproc)
cat >"$tmp/slurm.conf" <<CONF
ClusterName=moetunetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
# The job script asks for --constraint=sapphirerapids: this node says it is one.
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Features=sapphirerapids State=UNKNOWN
PartitionName=moetune Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 60); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
  [ "$state" = idle ] && { up=1; break; }
  sleep 0.5
done
[ -n "$up" ] || { logs "$tmp/slurmctld.out" "$tmp/slurmd.out" "$tmp/slurmctld.log" "$tmp/slurmd.log";
  skip "slurmctld and slurmd did not bring node $host up within 30 s (state: '${state:-none}')"; }
echo "cluster up: slurmctld on 127.0.0.1:$port, node $host ($cpus CPUs)"

# From here on a problem is a failure of the fleet, not of this sandbox.
cd "$tmp/run"
cp "$src/tests/slurm/tiny.yaml" tiny.yaml
export MOETUNE_BIN=$moetune MOETUNE_SWEEP=tiny.yaml MOETUNE_PARTS=parts
jobid=$(sbatch --parsable --array=0-2 "$src/tools/slurm/sweep-array.sh") || fail "sbatch of the job array"
merge=$(sbatch --parsable --dependency=afterok:"$jobid" --output=merge.out \
  --wrap "$moetune merge parts/tiny.*.json -o merged.json") || fail "sbatch of the merge"
echo "job array $jobid, merge job $merge"

# Meanwhile, the sweep unsharded, for the cases the merge must give back.
"$moetune" sweep tiny.yaml -o whole.json --no-progress >whole.out 2>&1 || { cat whole.out; fail "the unsharded sweep"; }

deadline=$((SECONDS + 240))
while [ -n "$(squeue -h -j "$jobid,$merge" -o %i 2>/dev/null)" ]; do
  if squeue -h -j "$merge" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    logs logs/*; fail "a task of the job array failed, so the merge never ran"
  fi
  [ $SECONDS -lt $deadline ] || { squeue; logs logs/* "$tmp/slurmd.log"; fail "jobs unfinished after 240 s"; }
  sleep 1
done
[ -f merged.json ] || { logs logs/* merge.out; fail "the merge job wrote no merged.json"; }
ls parts/tiny.0.json parts/tiny.1.json parts/tiny.2.json >/dev/null || fail "a part is missing"

# The cases, one line each (point, op, variant, shape, dtype, layout, tokens, threads): the same
# lines, and as many, in both.
cases() { "$moetune" table "$1" --format csv | tail -n +2 | cut -d, -f1-8 | sort; }
cases whole.json >whole.cases || fail "moetune table whole.json"
cases merged.json >merged.cases || fail "moetune table merged.json"
n=$(wc -l <whole.cases)
[ "$n" -gt 3 ] || fail "the unsharded sweep has only $n cases"
[ -z "$(uniq -d merged.cases)" ] || fail "cases twice in merged.json: $(uniq -d merged.cases)"
diff whole.cases merged.cases || fail "merged.json does not hold exactly the cases of the unsharded sweep"
grep -q '"merged_from"' merged.json || fail "merged.json has no merged_from"
echo "ok: 3 shards on Slurm merged into the $n cases of the unsharded sweep"
