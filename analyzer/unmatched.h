/*
 * unmatched.h - filter patterns that match nothing in the loaded recordings.
 *
 * A typo in -i, -f, --function or --thread gives an empty table that looks
 * like a real answer ("this never ran").  After loading, each pattern is
 * tried against the dataset's distinct opnames, files, qualnames and
 * threads; one that matches none gets a warning line, with the nearest
 * opnames for -i, or, where the recording counted only chosen instructions
 * (record -i), what it counted.  The report itself is unchanged.
 */
#ifndef AN_UNMATCHED_H
#define AN_UNMATCHED_H

#include "an_strbuf.h"
#include "filter.h"
#include "load.h"

/* Appends "heavyops-analyze: warning: ..." lines to warn, one per pattern of
 * f that matches nothing in ds; the default instruction set is not checked. */
void an_warn_unmatched(const struct an_filter *f, const struct an_dataset *ds,
                       struct an_strbuf *warn);

/* Optimal string alignment distance between a and b, ignoring ASCII case
 * (insertions, deletions, substitutions and swaps of neighbours each cost
 * one), or limit + 1 if it exceeds limit.  Exposed for tests. */
unsigned an_edit_distance(const char *a, const char *b, unsigned limit);

#endif /* AN_UNMATCHED_H */
