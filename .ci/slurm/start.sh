#!/usr/bin/env bash
# Start a one-node SLURM on this machine for the workflow's `slurm` tests (Debian 12, run as root,
# no systemd). No accounting database: the test profile polls with `squeue`, which is reliable
# because MinJobAge (600 s) is far above 3x the profile's first status-check delay.
# One fake GPU (gres gpu:a100:1 backed by /dev/null) makes `gpu=1` requests schedulable, so the
# GPU path of the profile is exercised without hardware.
# Idempotent: daemons already alive (by pid file) are left alone; stop.sh first to change config.
set -euo pipefail

host=$(hostname -s)
ncpu=$(nproc)
mem_mb=$(( $(free -m | awk '/^Mem:/{print $2}') * 85 / 100 ))

say() { echo "[slurm-start +${SECONDS}s] $*"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_until() {  # wait_until SECONDS CMD... : poll every 0.2 s
  local limit=$1; shift
  for _ in $(seq 1 $((limit * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "gave up after ${limit}s waiting for: $*" >&2
  return 1
}

# 1. packages; a temporary policy-rc.d keeps the postinst scripts from starting daemons
pkgs="munge slurmctld slurmd slurm-client"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
say "packages installed"

# 2. configuration at the default path (the jobstep plugin drops SLURM_CONF inside jobs)
install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /var/log/slurm
install -d -m 0755 /var/spool/slurmd
echo "NodeName=${host} Name=gpu Type=a100 File=/dev/null" >/etc/slurm/gres.conf
cat >/etc/slurm/slurm.conf <<CONF
# one-node test cluster written by .ci/slurm/start.sh
ClusterName=avici-ci
SlurmctldHost=${host}
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
GresTypes=gpu
NodeName=${host} CPUs=${ncpu} RealMemory=${mem_mb} Gres=gpu:a100:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# 3. munge (authentication between the daemons and the client tools)
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 0600 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
alive /run/munge/munged.pid || runuser -u munge -- /usr/sbin/munged
wait_until 10 sh -c 'munge -n | unmunge'
say "munged up"

# 4. controller first, then the node daemon (an early slurmd registration is retried only later)
alive /run/slurmctld.pid || /usr/sbin/slurmctld
wait_until 30 sh -c 'scontrol ping | grep -q UP'
alive /run/slurmd.pid || /usr/sbin/slurmd
wait_until 30 sh -c "sinfo -h -n ${host} -o %T | grep -qvE '^(unknown|n/a)'"
case "$(sinfo -h -n "${host}" -o %T)" in
  drain* | down* | inval* | fail*) scontrol update nodename="${host}" state=resume || true ;;
esac
wait_until 30 sh -c "sinfo -h -n ${host} -o %T | grep -qxE '(idle|mixed|allocated)'"
say "slurmctld and slurmd up"
sinfo
