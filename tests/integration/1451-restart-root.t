#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1451-restart-root: root's "scheckpoint restart" gives the image's owner
# nothing of root's (issue 13, finding 1).  root runs it on a terminal with
# a secret in its environment; the sbatch it runs (a wrapper first in PATH
# records what that process holds, then runs the real one) is the owner's,
# has no controlling terminal, no fd on root's terminal or any other fd of
# root's, none of root's environment, and reads on its input the script
# bytes that were verified (not a path it could be swapped under); what
# it prints reaches root's terminal escaped.  An image owned by root is
# restarted only with AllowRoot.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

# vacated <dir> <user|root> <out>: run a counter with --checkpoint=0 in dir
# as that user, vacate it; print its id.
vacated() {
	local j run=
	[ "$2" = user ] && run=as_user
	j=$($run sbatch --parsable --checkpoint=0 --checkpoint-dir="$1" -o "$3" \
		"$APPS/counter.sh" 60) || return 1
	j=${j%%;*}
	job_wait_state "$j" RUNNING 20 || return 1
	wait_for 10 grep -q '^start=' "$3" || return 1
	sleep 2
	$run "$SCHECKPOINT" vacate "$j" MaxWait=60 >/dev/null || return 1
	job_wait_done "$j" 30 >/dev/null || return 1
	image_verify "$1/$j.ckpt" || return 1
	echo "$j"
}

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
j=$(vacated "$ckdir" user "$CLUSTER_WORK/user.out") || fail "no vacated image of $CKPT_USER's job"
img=$ckdir/$j.ckpt
ok "job $j of $CKPT_USER vacated: $img"

# The wrapper runs as whoever root's restart makes it; it writes into the
# work directory, which is the user's.
real=$(command -v sbatch)
wrap=$CLUSTER_DIR/wrap
mkdir -p "$wrap"
cat >"$wrap/sbatch" <<WRAPPER
#!/bin/bash
# ls, not a loop in this shell, whose own pipes would be listed
ls -l /proc/\$\$/fd >"$CLUSTER_WORK/sbatch.fds"
rec="uid=\$(id -u) tty=\$(ps -o tty= -p \$\$ | tr -d ' ') secret=\${CKPT_ROOT_SECRET:-none}"
printf '%s\nargs=%s\n' "\$rec" "\$*" >"$CLUSTER_WORK/sbatch.rec"
# An escape sequence for root's terminal (a window title).
printf '\033]0;owned\007sbatch-wrapper-was-here\n' >&2
if [ -t 0 ]; then
	exec "$real" "\$@"
fi
cat >"$CLUSTER_WORK/sbatch.stdin"
exec "$real" "\$@" <"$CLUSTER_WORK/sbatch.stdin"
WRAPPER
chmod 0755 "$wrap/sbatch"

# root, on a terminal (script(1) gives the command a pty), with a secret.
msg=$(cd / && CKPT_ROOT_SECRET=s3cret PATH=$wrap:$PATH timeout 120 \
	script -qec "$SCHECKPOINT restart $j ImageDir=$ckdir" /dev/null </dev/null 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "restart by root: exit $rc: $msg"
rj=$(echo "$msg" | tr -d '\r' | sed -n 's/^Submitted batch job \([0-9][0-9]*\)$/\1/p')
[ -n "$rj" ] || fail "restart by root said: $msg"
[ "$(job_field "$rj" UserId)" = "$CKPT_USER($(id -u "$CKPT_USER"))" ] || fail "job $rj: UserId=$(job_field "$rj" UserId)"
scancel "$rj"
ok "restart by root on a terminal: job $rj of $CKPT_USER"

rec=$(head -n 1 "$CLUSTER_WORK/sbatch.rec") || fail "the sbatch wrapper did not run"
# its fds, but 255 (bash's own, the script)
rec+=$(sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/ fd\1=\2/p' "$CLUSTER_WORK/sbatch.fds" | grep -v '^ fd255=' | tr -d '\n')
args=$(sed -n 's/^args=//p' "$CLUSTER_WORK/sbatch.rec")
note "what sbatch held: $rec"
[[ "$rec" == "uid=$(id -u "$CKPT_USER") "* ]] || fail "sbatch did not run as $CKPT_USER: $rec"
[[ "$rec" == *" tty=? "* ]] || fail "sbatch has a controlling terminal: $rec"
[[ "$rec" != *"secret=s3cret"* ]] || fail "sbatch (and the job) got root's environment: $rec"
for f in $rec; do
	case $f in
	fd[012]=*/dev/pts/* | fd[012]=*/dev/tty*) fail "sbatch holds root's terminal: $f" ;;
	fd[012]=*) ;;
	fd*) fail "sbatch holds another fd of root's: $f" ;;
	esac
done
ok "sbatch ran as $CKPT_USER, without a terminal, root's fds or root's environment"

[[ "$args" != *slurm-job.script* ]] || fail "sbatch was given the script by name: $args"
cmp -s "$CLUSTER_WORK/sbatch.stdin" "$img/slurm-job.script" ||
	fail "sbatch did not read the verified script on its input"
ok "sbatch read the verified script on its input, not by name"

printf '%s' "$msg" | grep -q $'\033' && fail "an escape sequence reached root's terminal: $(printf '%q' "$msg")"
echo "$msg" | grep -qF '\x1b]0;owned\x07sbatch-wrapper-was-here' ||
	fail "sbatch's message is not shown escaped: $(printf '%q' "$msg")"
ok "what sbatch printed reached root's terminal escaped"

# An image owned by root: a job of root's own.
rootdir=$CLUSTER_DIR/rootckpt
mkdir -m 0700 "$rootdir" || fail "mkdir $rootdir"
rjob=$(vacated "$rootdir" root "$CLUSTER_DIR/root.out") || fail "no vacated image of root's job"
before=$(squeue -h -o %i | wc -l)
msg=$("$SCHECKPOINT" restart "$rjob" ImageDir="$rootdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "restart of root's image without AllowRoot: exit $rc: $msg"
echo "$msg" | grep -q 'owned by root.*AllowRoot' || fail "restart of root's image: $msg"
[ "$(squeue -h -o %i | wc -l)" = "$before" ] || fail "a job was submitted: $(squeue)"
ok "root's image is not restarted without AllowRoot: $msg"
msg=$("$SCHECKPOINT" restart "$rjob" ImageDir="$rootdir" AllowRoot 2>&1) || fail "restart AllowRoot: $msg"
rj=${msg##* }
[ "$(job_field "$rj" UserId)" = "root(0)" ] || fail "job $rj: UserId=$(job_field "$rj" UserId)"
scancel "$rj"
ok "with AllowRoot: $msg, as root"
