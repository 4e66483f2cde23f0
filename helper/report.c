/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report.c - a child's report: written by the child, and a worker's
 * decoded (worker.c reads it from the child, which ran with the job
 * user's credentials). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

int report_write(int out, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = 0;

	if (!s || write(out, s, strlen(s)) < 0)
		rc = -1;
	free(s);
	json_decref(o);
	return rc;
}

int report_decode(json_t *o, bool part, struct ckpt_result *r)
{
	json_error_t jerr;
	int ok = 0, uncaught = 0, skipped = 0;
	json_int_t seq = 0, bytes = 0, flushed = 0;

	*r = (struct ckpt_result){ .error = "malformed report from worker",
				   .part = part };
	if (!o)
		return -1;
	if (json_unpack_ex(o, &jerr, 0, "{s:b,s?I,s?s,s?s,s?b,s?b,s?I,s?I}",
			   "ok", &ok, "seq", &seq, "image", &r->image, "error",
			   &r->error, "uncaught", &uncaught, "skipped",
			   &skipped, "bytes", &bytes, "flushed", &flushed) < 0)
		return 0;
	r->ok = ok && ((r->image && seq > 0) || part);
	r->uncaught = uncaught;
	r->skipped = !ok && skipped;
	r->seq = (uint64_t)seq;
	r->bytes = r->ok && bytes > 0 ? (uint64_t)bytes : 0;
	r->flushed = flushed > 0 ? (uint64_t)flushed : 0;
	if (!r->ok && !r->error)
		r->error = "unknown error";
	return 0;
}

json_t *report_parse(const char *buf, size_t len, bool part,
		     struct ckpt_result *r)
{
	json_error_t jerr;
	json_t *o = json_loadb(buf, len, 0, &jerr);

	report_decode(o, part, r);
	return o;
}
