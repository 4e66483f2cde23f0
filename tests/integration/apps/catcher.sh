#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# catcher.sh <marker> [name]: runs until killed, catching every signal a
# checkpoint could use (USR1, USR2, HUP, INT, TERM, URG, WINCH...); each one
# caught appends "<name> <pid> <signal>" to <marker>.  A process that must
# NOT be asked to checkpoint: if <marker> exists, something signalled it.
marker=$1
name=${2:-catcher}
for s in USR1 USR2 HUP INT TERM URG WINCH CONT ALRM; do
	# shellcheck disable=SC2064
	trap "echo '$name $$ $s' >>'$marker'" "$s"
done
echo "$name $$ ready"
while :; do
	sleep 1 &
	wait $!
done
