/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_index.c - libFuzzer target for the offsite store's index.json
 * (offsite_index_parse in common/offsite.c): slurmckptd reads it back
 * from the HTTP(S) store, whoever else may write there.
 *
 * Each input is parsed as index.json; an accepted list goes through
 * offsite_index_add() as slurmckptd's update_index() does (grown by one,
 * a seq and a keep taken from the input), and both lists are formatted
 * and parsed back.  Properties beyond "no sanitizer report":
 *   - a rejection is -1 EINVAL with a message, *seqs NULL and *n 0;
 *   - an accepted list has at most 1000 seqs (offsite.h), all positive
 *     and strictly ascending, and *seqs is NULL exactly when *n is 0;
 *   - offsite_index_format() of it parses back to the same list, and
 *     formatting that again gives the same text;
 *   - after offsite_index_add(): still strictly ascending, the newest
 *     max(keep, 1) kept (all of them when fewer), the others dropped:
 *     kept + dropped are the old list plus the added seq, each once. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offsite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEQS_MAX 1000		/* offsite.h: "at most 1000" */

static void check_list(const uint64_t *seqs, size_t n)
{
	size_t i;

	if (n > SEQS_MAX || (n == 0) != (seqs == NULL))
		abort();
	for (i = 0; i < n; i++)
		if (seqs[i] < 1 || seqs[i] > INT64_MAX ||
		    (i && seqs[i] <= seqs[i - 1]))
			abort();
}

/* format, parse back: the same list; format again: the same text. */
static void roundtrip(const uint64_t *seqs, size_t n)
{
	uint64_t *back;
	size_t nback;
	char *a, *b, err[256];

	if (!(a = offsite_index_format(seqs, n)))
		abort();
	if (offsite_index_parse(a, strlen(a), &back, &nback, err,
				sizeof(err)) != 0 || nback != n ||
	    (n && memcmp(back, seqs, n * sizeof(*seqs)) != 0))
		abort();
	if (!(b = offsite_index_format(back, nback)) || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	free(back);
}

static int has(const uint64_t *s, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == v)
			return 1;
	return 0;
}

static void add(const uint64_t *seqs, size_t n, const uint8_t *data,
		size_t size)
{
	uint64_t *kept, *dropped, seq = 1;
	size_t nk = n, nd = 0, i, all, max;
	long keep = size ? (long)(data[size - 1] % 8) - 1 : 3;	/* -1..6 */

	if (n) {
		seq = seqs[size % n];
		if ((size & 1) && seq < INT64_MAX)
			seq++;	/* new, or the next one that is listed */
	}
	kept = calloc(n + 1, sizeof(*kept));
	dropped = calloc(n + 1, sizeof(*dropped));
	if (!kept || !dropped)
		abort();
	if (n)
		memcpy(kept, seqs, n * sizeof(*seqs));
	offsite_index_add(kept, &nk, seq, keep, dropped, &nd);
	all = n + !has(seqs, n, seq);
	max = keep < 1 ? 1 : (size_t)keep;
	if (nk != (all < max ? all : max) || nk + nd != all)
		abort();
	for (i = 0; i < nk; i++)
		if ((i && kept[i] <= kept[i - 1]) ||
		    (kept[i] != seq && !has(seqs, n, kept[i])))
			abort();
	for (i = 0; i < nd; i++)
		if ((i && dropped[i] <= dropped[i - 1]) ||
		    dropped[i] >= kept[0] || has(kept, nk, dropped[i]) ||
		    (dropped[i] != seq && !has(seqs, n, dropped[i])))
			abort();
	check_list(kept, nk);
	roundtrip(kept, nk);
	free(kept);
	free(dropped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t dummy;
	uint64_t *seqs = &dummy;	/* must be replaced */
	size_t n = 7;
	char err[256] = "";

	errno = 0;
	if (offsite_index_parse((const char *)data, size, &seqs, &n, err,
				sizeof(err)) != 0) {
		if (errno != EINVAL || !err[0] || seqs || n)
			abort();
		return 0;
	}
	check_list(seqs, n);
	roundtrip(seqs, n);
	add(seqs, n, data, size);
	free(seqs);
	return 0;
}
