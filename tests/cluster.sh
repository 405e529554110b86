#!/bin/sh
# tests/cluster.sh - `make test-cluster`: runs the README's cluster recipes on
# a tiny spec and checks that each writes the summary a local `compare` of
# the same spec writes.
#
#   1. a local `equigrid compare SPEC` (the reference summary);
#   2. the README's GNU parallel recipe;
#   3. a one-node Slurm cluster brought up here from Debian's slurm-wlm and
#      munge (a generated munge key, its own munged socket, a slurm.conf for
#      this host's CPUs and memory, slurmctld and slurmd in the background,
#      all state under one temporary directory, everything stopped and removed
#      at the end whatever happens), then the README's Slurm recipe;
#   4. a local `equigrid transfer TRANSFER_SPEC`, then on the same cluster the
#      README's transfer recipe (the three stages' job lists chained with
#      sbatch --dependency=afterok through --check-pretrain), checking that
#      transfer.csv and every stage's summary equal the local ones.
#
# The recipes are the README's own text: each is the ```sh block after a
# "<!-- recipe: NAME -->" line, run as `sh -s SPEC` in a fresh directory that
# holds links to ./equigrid, configs/ and envs/. A tool that cannot run here (Slurm
# needs root, say) is reported with the reason: a skip on a workstation, a
# failure where CI=true. Environment: EQUIGRID_BIN (default build/equigrid),
# SPEC (default configs/compare/tiny.ini), TRANSFER_SPEC (default
# configs/transfer/quick.ini), LIMIT and TRANSFER_LIMIT (seconds a recipe may
# take), KEEP=1 keeps the directory.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${EQUIGRID_BIN:-$REPO/build/equigrid}
case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
SPEC=${SPEC:-configs/compare/tiny.ini}
TRANSFER_SPEC=${TRANSFER_SPEC:-configs/transfer/quick.ini}
LIMIT=${LIMIT:-100}      # seconds each compare recipe may take
TRANSFER_LIMIT=${TRANSFER_LIMIT:-900}
T=$(mktemp -d "${TMPDIR:-/tmp}/equigrid-cluster.XXXXXX")
chmod 755 "$T"           # munged wants every directory on its socket's path searchable
PIDS=""
RECIPE=""
FAILED=0
SKIPPED=""
START=$(date +%s)

say() { echo "test-cluster: $*"; }

stop_all() {
    [ -z "$RECIPE" ] || { kill "$RECIPE" 2>/dev/null || true; wait "$RECIPE" 2>/dev/null || true; }
    if [ -n "${SLURM_CONF:-}" ] && [ -e "$T/slurm-up" ]; then
        ids=$(squeue -h -o %A 2>/dev/null || true)
        if [ -n "$ids" ]; then
            # shellcheck disable=SC2086
            scancel $ids 2>/dev/null || true
            n=0
            while [ -n "$(squeue -h -o %A 2>/dev/null || true)" ] && [ $n -lt 20 ]; do sleep 0.5; n=$((n + 1)); done
        fi
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    PIDS=""
    if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM HUP

# unavailable WHAT WHY: a skip here, a failure in CI.
unavailable() {
    if [ "${CI:-}" = true ]; then
        say "FAIL: $1 cannot run here: $2 (CI=true: this is a failure)"
        FAILED=1
    else
        say "SKIPPED $1: $2"
        SKIPPED="$SKIPPED $1"
    fi
}

# recipe NAME: prints the README's sh block that follows "<!-- recipe: NAME -->".
recipe() {
    awk -v tag="<!-- recipe: $1 -->" '
        $0 == tag { found = 1; next }
        found == 1 && /^```sh$/ { found = 2; next }
        found == 2 && /^```$/ { exit }
        found == 2 { print }' "$REPO/README.md"
}

# workdir NAME: a fresh directory with ./equigrid, configs/ and envs/ (the maps)
# as in the repository.
workdir() {
    mkdir -p "$T/$1"
    ln -s "$BIN" "$T/$1/equigrid"
    ln -s "$REPO/configs" "$T/$1/configs"
    ln -s "$REPO/envs" "$T/$1/envs"
    echo "$T/$1"
}

# run_recipe NAME SPEC SECONDS CHECK: runs the recipe on SPEC within SECONDS,
# then CHECK NAME DIR ELAPSED checks what it wrote.
run_recipe() {
    recipe "$1" > "$T/$1.sh"
    if [ ! -s "$T/$1.sh" ]; then
        say "FAIL: README.md has no \"<!-- recipe: $1 -->\" block"
        FAILED=1
        return
    fi
    dir=$(workdir "$1")
    t0=$(date +%s)
    # in the background, so that stop_all can end it (timeout signals its whole group)
    (cd "$dir" && exec timeout "$3" sh -eu -s "$2" < "$T/$1.sh" > "$T/$1.log" 2>&1) &
    RECIPE=$!
    status=0
    wait "$RECIPE" || status=$?
    RECIPE=""
    if [ "$status" -ne 0 ]; then
        say "FAIL: the $1 recipe failed or took over $3 s; its output:"
        sed 's/^/    /' "$T/$1.log"
        FAILED=1
        return
    fi
    "$4" "$1" "$dir" "$(($(date +%s) - t0))"
}

# same NAME REF DIR FILE...: each FILE under REF equals the one under DIR.
same() {
    name=$1 ref=$2 got=$3
    shift 3
    for f in "$@"; do
        if ! cmp -s "$ref/$f" "$got/$f"; then
            say "FAIL: $name: $f differs from the local run's:"
            diff "$ref/$f" "$got/$f" 2>&1 | sed 's/^/    /' || true
            FAILED=1
            return 1
        fi
    done
}

# check_summary NAME DIR SECONDS: DIR's compare summary equals the local one.
check_summary() {
    out=$(out_dir "$SPEC" compare)
    same "$1" "$T/local/$out" "$2/$out" summary.csv summary.md || return 0
    say "ok: $1 recipe in $3 s; its summary equals the local one"
}

# check_transfer NAME DIR SECONDS: DIR's transfer.csv and stage summaries
# equal the local transfer's (transfer.md differs: it holds wall times).
check_transfer() {
    out=$(out_dir "$TRANSFER_SPEC" transfer)
    same "$1" "$T/local-transfer/$out" "$2/$out" transfer.csv pretrain/summary.csv pretrain/summary.md \
        zeroshot/summary.csv zeroshot/summary.md finetune/summary.csv finetune/summary.md || return 0
    jobs=$(cat "$2"/jobs/*.txt | wc -l)
    tasks=$(find "$2" -maxdepth 1 -name 'slurm-*_*.out' | wc -l)
    if [ "$tasks" -ne "$jobs" ] || [ "$jobs" -eq 0 ]; then
        say "FAIL: $1: $tasks array task outputs for $jobs job lines"
        FAILED=1
        return 0
    fi
    say "ok: $1 recipe in $3 s ($jobs array tasks in 3 chained arrays); transfer.csv and the stage summaries equal the local ones"
}

# out_dir SPEC KIND: the spec's out (relative to the working directory);
# by default runs/compare-BASENAME or runs/transfer-NAME.
out_dir() {
    o=$(sed -n 's/^out[ \t]*=[ \t]*\([^ \t;]*\).*/\1/p' "$REPO/$1" | head -1)
    if [ -z "$o" ] && [ "$2" = transfer ]; then
        n=$(sed -n 's/^name[ \t]*=[ \t]*\([^ \t;]*\).*/\1/p' "$REPO/$1" | head -1)
        o=runs/transfer-${n:-transfer}
    fi
    [ -n "$o" ] || o=runs/compare-$(basename "$1" .ini)
    echo "$o"
}

# local_run NAME CMD...: runs CMD in a fresh work directory NAME (the reference).
local_run() {
    name=$1
    shift
    dir=$(workdir "$name")
    t0=$(date +%s)
    if ! (cd "$dir" && "$@" > "$T/$name.log" 2>&1); then
        say "FAIL: the $name run failed:"
        sed 's/^/    /' "$T/$name.log"
        exit 1
    fi
    say "ok: $name run in $(($(date +%s) - t0)) s"
}

# start_slurm: munged, slurmctld and slurmd under $T; returns 1 with a reason.
start_slurm() {
    for c in munged slurmctld slurmd sbatch squeue sinfo scancel; do
        command -v "$c" > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
        command -v "$c" > /dev/null 2>&1 || { WHY="$c is not installed (make deps installs slurm-wlm and munge)"; return 1; }
    done
    [ "$(id -u)" -eq 0 ] || { WHY="slurmd must run as root to launch jobs (run as root, as CI does)"; return 1; }
    S=$T/slurm
    mkdir -p "$S/etc" "$S/sock" "$S/state" "$S/spool" "$S/log"
    chmod 700 "$S/etc"
    chmod 755 "$S" "$S/sock"
    dd if=/dev/urandom of="$S/etc/munge.key" bs=1024 count=1 2> /dev/null
    chmod 400 "$S/etc/munge.key"
    munged -F --socket="$S/sock/munge.socket" --key-file="$S/etc/munge.key" \
        --pid-file="$S/etc/munged.pid" --seed-file="$S/etc/munged.seed" \
        --log-file="$S/log/munged.log" > "$S/log/munged.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_for 10 "[ -S '$S/sock/munge.socket' ]" || { WHY="munged did not start: $(tail -3 "$S/log/munged.out" | tr '\n' ' ')"; return 1; }
    host=$(hostname -s)
    node=$(slurmd -C | sed -n 's/ *UpTime=.*//; /^NodeName=/p')
    [ -n "$node" ] || { WHY="slurmd -C printed no node line"; return 1; }
    # ports from the process id, so that two runs on one machine do not collide
    port=$((20000 + ($$ % 10000) * 2))
    cat > "$S/etc/slurm.conf" << EOF
ClusterName=equigrid-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/sock/munge.socket
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$S/etc/slurm.conf"
    slurmctld -D -i -f "$SLURM_CONF" > "$S/log/slurmctld.out" 2>&1 &
    PIDS="$PIDS $!"
    slurmd -D -f "$SLURM_CONF" > "$S/log/slurmd.out" 2>&1 &
    PIDS="$PIDS $!"
    touch "$T/slurm-up"
    if ! wait_for 30 "sinfo -h -N -o %t 2>/dev/null | grep -q '^idle'"; then
        WHY="the node did not come up within 30 s; slurmctld and slurmd said: $(grep -h -i 'error\|fatal' "$S/log/slurmctld.out" "$S/log/slurmd.out" | grep -v pmix | tail -4 | tr '\n' ' ')"
        return 1
    fi
    say "slurm up: $(sinfo -h -N -o '%N %c CPUs %m MB %t') (slurm.conf: $SLURM_CONF)"
}

# wait_for SECONDS CONDITION: polls every 0.2 s.
wait_for() {
    n=0
    while ! eval "$2"; do
        n=$((n + 1))
        [ $n -lt $(($1 * 5)) ] || return 1
        sleep 0.2
    done
}

[ -x "$BIN" ] || { say "FAIL: $BIN is not built (make builds it)"; exit 1; }
# a copy, so that rebuilding the program while the test runs changes nothing
cp "$BIN" "$T/equigrid-under-test"
BIN=$T/equigrid-under-test
[ -f "$REPO/$SPEC" ] || { say "FAIL: no spec $SPEC"; exit 1; }
say "specs $SPEC and $TRANSFER_SPEC, in $T"

[ -f "$REPO/$TRANSFER_SPEC" ] || { say "FAIL: no transfer spec $TRANSFER_SPEC"; exit 1; }
local_run local "$BIN" compare "$SPEC" --quiet

if command -v parallel > /dev/null 2>&1; then
    run_recipe parallel "$SPEC" "$LIMIT" check_summary
else
    unavailable parallel "GNU parallel is not installed (make deps installs it)"
fi

WHY=""
if start_slurm; then
    run_recipe slurm "$SPEC" "$LIMIT" check_summary
    # the runs went through Slurm: one array task output per line of jobs.txt
    tasks=$(find "$T/slurm" -maxdepth 1 -name 'slurm-*_*.out' | wc -l)
    lines=$(wc -l < "$T/slurm/jobs.txt" 2> /dev/null || echo 0)
    if [ "$tasks" -ne "$lines" ] || [ "$lines" -eq 0 ]; then
        say "FAIL: slurm: $tasks array task outputs for $lines job lines"
        FAILED=1
    fi
    local_run local-transfer "$BIN" transfer "$TRANSFER_SPEC" --quiet
    run_recipe slurm-transfer "$TRANSFER_SPEC" "$TRANSFER_LIMIT" check_transfer
else
    unavailable slurm "$WHY"
fi

total=$(($(date +%s) - START))
if [ $FAILED -ne 0 ]; then
    say "FAILED after $total s"
    exit 1
fi
say "passed in $total s${SKIPPED:+ (skipped:$SKIPPED)}"
