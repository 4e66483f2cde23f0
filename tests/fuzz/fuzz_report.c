/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_report.c - libFuzzer target for the worker's report decoder
 * (report_parse in helper/report.c): slurmckptd reads the report
 * from a child that ran with the job user's credentials.
 *
 * Each input is decoded twice, as a step's report and as a follower's
 * part (part), and checked against a model of the decoder built from
 * the same JSON.  Properties beyond "no sanitizer report":
 *   - r.part is part, whatever the input;
 *   - not JSON: NULL, r not ok, "malformed report from worker";
 *   - an object whose "ok" is a boolean and whose seq, image, error,
 *     uncaught, skipped, bytes and flushed, where present, are an
 *     integer, strings, booleans and integers is decoded: ok when "ok"
 *     is true and (part, or an image and a seq > 0), that seq, uncaught
 *     as said, bytes (of an ok one) and flushed when above 0, else 0,
 *     image and error the object's
 *     (not ok without an error: still "malformed report from worker",
 *     so the decoder's "unknown error" is never the text);
 *   - anything else is not ok, not uncaught, seq 0;
 *   - not ok always has an error text (server.c prints it with %s), and
 *     every text points into the returned object or is a literal, and
 *     holds the whole string (no NUL inside). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char malformed[] = "malformed report from worker";

static bool well_formed(json_t *o)
{
	json_t *seq = json_object_get(o, "seq");
	json_t *img = json_object_get(o, "image");
	json_t *err = json_object_get(o, "error");
	json_t *unc = json_object_get(o, "uncaught");
	json_t *ok = json_object_get(o, "ok");
	json_t *skip = json_object_get(o, "skipped");
	json_t *bytes = json_object_get(o, "bytes");
	json_t *flushed = json_object_get(o, "flushed");

	return json_is_object(o) && json_is_boolean(ok) &&
	       (!seq || json_is_integer(seq)) && (!img || json_is_string(img)) &&
	       (!err || json_is_string(err)) && (!unc || json_is_boolean(unc)) &&
	       (!skip || json_is_boolean(skip)) &&
	       (!bytes || json_is_integer(bytes)) &&
	       (!flushed || json_is_integer(flushed));
}

/* s is NULL, a literal, or key's whole string in o. */
static void text_of(json_t *o, const char *key, const char *s)
{
	json_t *v = json_object_get(o, key);

	if (!s || !strcmp(s, malformed))
		return;
	if (s != json_string_value(v) || strlen(s) != json_string_length(v))
		abort();
}

static void expect(json_t *o, bool part, const struct ckpt_result *r)
{
	json_t *img = json_object_get(o, "image");
	json_int_t seq = json_integer_value(json_object_get(o, "seq"));
	json_int_t bytes = json_integer_value(json_object_get(o, "bytes"));
	json_int_t flushed = json_integer_value(json_object_get(o, "flushed"));
	bool ok = json_is_true(json_object_get(o, "ok")) &&
		  (part || (img && seq > 0));

	if (r->bytes != (ok && bytes > 0 ? (uint64_t)bytes : 0) ||
	    r->flushed != (flushed > 0 ? (uint64_t)flushed : 0))
		abort();
	if (r->ok != ok || r->seq != (uint64_t)seq ||
	    r->uncaught != json_is_true(json_object_get(o, "uncaught")) ||
	    r->image != json_string_value(img))
		abort();
	if (json_object_get(o, "error") ?
	    r->error != json_string_value(json_object_get(o, "error")) :
	    !ok && strcmp(r->error, malformed) != 0)
		abort();
}

static void one(const uint8_t *data, size_t size, bool part)
{
	struct ckpt_result r;
	json_t *o, *model;

	memset(&r, 0x5a, sizeof(r));	/* all of it must be set */
	o = report_parse((const char *)data, size, part, &r);
	model = json_loadb((const char *)data, size, 0, NULL);
	if (r.part != part || !r.error || !o != !model)
		abort();
	if (!o) {
		if (r.ok || r.uncaught || r.seq || r.image ||
		    strcmp(r.error, malformed) != 0)
			abort();
		return;
	}
	if (well_formed(o))
		expect(o, part, &r);
	else if (r.ok || r.uncaught || r.seq)
		abort();
	text_of(o, "image", r.image);
	text_of(o, "error", r.error);
	json_decref(model);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, false);
	one(data, size, true);
	return 0;
}
