#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# memcount.sh <N>: counts to N, one tick a second, with its count only in
# memory: resuming it needs a transparent checkpoint (DMTCP, CRIU).
# Output lines: "start=0" (fresh start only), "tick=", "final=".
n=${1:-30}
count=0
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	sleep 1
	count=$((count + 1))
	echo "tick=$count"
done
echo "final=$count"
