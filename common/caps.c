/* SPDX-License-Identifier: GPL-2.0-or-later */
/* caps.c - see caps.h. */
#include "config.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

int caps_ckpt_restore(bool permitted, bool inheritable, bool effective)
{
	/* Capabilities 32..63 are in the second word. */
	const __u32 bit = 1u << (CAP_CHECKPOINT_RESTORE - 32);
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	d[1].permitted = permitted ? bit : 0;
	d[1].inheritable = inheritable ? bit : 0;
	d[1].effective = effective ? bit : 0;
	return (int)syscall(SYS_capset, &h, d);
}
