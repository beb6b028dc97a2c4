/*
 * hops_error.c - hops_strerror(), generated from HOPS_ERROR_LIST so the codes
 * and their texts cannot drift apart.
 */
#include "hops_private.h"

const char *
hops_strerror(int err)
{
    switch (err) {
#define HOPS_X_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        HOPS_ERROR_LIST(HOPS_X_CASE)
#undef HOPS_X_CASE
    default:
        /* A static string for unknown codes too: callers print the result
         * without checking, and a shared buffer would not be thread-safe. */
        return "unknown hops error code";
    }
}
