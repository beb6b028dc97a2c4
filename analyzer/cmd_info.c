/*
 * cmd_info.c - info FILE...: what each recording is (run, mode, end state),
 * its threads and how big it is.  Loading is the same as for a report, so
 * info also proves that the whole file decodes.
 */
#include "an_xalloc.h"
#include "cmd.h"
#include "exitcodes.h"
#include "load.h"
#include "render.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* ISO 8601 UTC with milliseconds: 2024-05-01T12:00:00.123Z */
static void
add_iso_time(struct an_strbuf *sb, int64_t ns)
{
    int64_t sec = ns / 1000000000;
    int64_t rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char buf[64];
    if ((int64_t)t != sec || !gmtime_r(&t, &tm) ||
        !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm)) {
        an_strbuf_addstr(sb, "?");
        return;
    }
    an_strbuf_addf(sb, "%s.%03dZ", buf, (int)(rem / 1000000));
}

/* 1 with end - start in *ns if the recording has an end that is not before
 * its start.  Both are any int64 the file holds, so the difference is taken
 * unsigned: it can exceed INT64_MAX (found by the analyzer's fuzz target). */
static int
duration_ns(const struct an_file *f, uint64_t *ns)
{
    if (!f->has_end || f->end.end_ns < f->start_ns)
        return 0;
    *ns = (uint64_t)f->end.end_ns - (uint64_t)f->start_ns;
    return 1;
}

/* argv as a shell would need it typed: words with odd characters quoted. */
static void
add_argv(struct an_strbuf *sb, const struct an_strtab *strs, const struct an_file *f)
{
    for (uint32_t i = 0; i < f->argc; i++) {
        const char *a = an_strtab_get(strs, f->argv[i]);
        if (i)
            an_strbuf_addch(sb, ' ');
        if (*a && !a[strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_./=:,+@%")]) {
            an_strbuf_add_printable(sb, a);
            continue;
        }
        /* Escaped a run between quotes at a time: a byte at a time, every byte
         * of a UTF-8 character would look invalid and show as \xNN. */
        struct an_strbuf run = AN_STRBUF_INIT;
        an_strbuf_addch(sb, '\'');
        for (const char *p = a;; p++) {
            size_t n = strcspn(p, "'");
            an_strbuf_reset(&run);
            an_strbuf_add(&run, p, n);
            an_strbuf_add_printable(sb, an_strbuf_str(&run));
            p += n;
            if (!*p)
                break;
            an_strbuf_addstr(sb, "'\\''");
        }
        an_strbuf_addch(sb, '\'');
        an_strbuf_release(&run);
    }
}

static void
add_list(struct an_strbuf *sb, const struct an_strtab *strs, const uint32_t *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            an_strbuf_addstr(sb, ", ");
        an_strbuf_add_printable(sb, an_strtab_get(strs, ids[i]));
    }
}

static void
field(struct an_strbuf *out, const char *name)
{
    an_strbuf_addf(out, "  %-19s", name);
}

/* A labelled count with thousands separators, then tail ("\n", " bytes\n"). */
static void
count_field(struct an_strbuf *out, const char *name, uint64_t n, const char *tail)
{
    field(out, name);
    an_strbuf_add_thousands(out, n);
    an_strbuf_addstr(out, tail);
}

static void
info_text(const struct an_dataset *ds, const struct an_file *f, struct an_strbuf *out)
{
    const struct an_strtab *strs = &ds->strs;
    an_strbuf_add_printable(out, f->path);
    an_strbuf_addstr(out, ":\n");
    field(out, "format version:");
    an_strbuf_addf(out, "%u.%u\n", f->major, f->minor);
    field(out, "python:");
    an_strbuf_add_printable(out, an_strtab_get(strs, f->python_version));
    an_strbuf_addch(out, '\n');
    field(out, "mechanism:");
    an_strbuf_add_printable(out, an_strtab_get(strs, f->mechanism));
    an_strbuf_addch(out, '\n');
    field(out, "argv:");
    add_argv(out, strs, f);
    an_strbuf_addch(out, '\n');
    field(out, "pid:");
    an_strbuf_addf(out, "%" PRIu64 "\n", f->pid);
    field(out, "start:");
    add_iso_time(out, f->start_ns);
    an_strbuf_addch(out, '\n');
    field(out, "duration:");
    uint64_t ns;
    if (duration_ns(f, &ns))
        an_strbuf_addf(out, "%.3f s\n", (double)ns / 1e9);
    else
        an_strbuf_addstr(out, "unknown\n");
    field(out, "mode:");
    if (f->meta_flags & HOPS_META_ALL_INSTRUCTIONS) {
        an_strbuf_addstr(out, "all instructions\n");
    } else {
        an_strbuf_addstr(out, "tracked set: ");
        add_list(out, strs, f->tracked, f->n_tracked);
        an_strbuf_addch(out, '\n');
    }
    field(out, "files:");
    if (f->n_file_globs)
        add_list(out, strs, f->file_globs, f->n_file_globs);
    else
        an_strbuf_addstr(out, "all");
    an_strbuf_addch(out, '\n');
    field(out, "end:");
    if (!f->has_end)
        an_strbuf_addstr(out, "not clean (no end record: program killed or crashed?)\n");
    else if (!(f->end.flags & HOPS_END_CLEAN))
        an_strbuf_addf(out, "not clean, exit status %" PRId32 "\n", f->end.exit_status);
    else if (f->end.exit_status >= 0)
        an_strbuf_addf(out, "clean, exit status %" PRId32 "\n", f->end.exit_status);
    else
        an_strbuf_addstr(out, "clean, exit status unknown\n");
    if (f->has_end && (f->end.flags & HOPS_END_INTERFERENCE)) {
        field(out, "interference:");
        an_strbuf_addstr(out, "another tracer/profiler was active; counts may be low\n");
    }
    const char *why = an_file_incomplete_cause(f);
    if (why != NULL) {
        field(out, "incomplete:");
        an_strbuf_addf(out, "%s; counts may be low\n", why);
    }
    field(out, "lost events:");
    if (f->has_end)
        an_strbuf_add_thousands(out, f->end.lost_events);
    else
        an_strbuf_addstr(out, "unknown");
    an_strbuf_addch(out, '\n');
    field(out, "threads:");
    an_strbuf_addf(out, "%zu\n", f->n_threads);
    for (size_t i = 0; i < f->n_threads; i++) {
        const struct an_thread *t = &ds->threads[f->first_thread + i];
        an_strbuf_addf(out, "    %" PRIu64, t->tid);
        if (t->native_id)
            an_strbuf_addf(out, " (native %" PRIu64 ")", t->native_id);
        if (an_strtab_len(strs, t->name)) {
            an_strbuf_addch(out, ' ');
            an_strbuf_add_printable(out, an_strtab_get(strs, t->name));
        }
        an_strbuf_addstr(out, ": ");
        an_strbuf_add_thousands(out, t->total);
        an_strbuf_addstr(out, " instructions\n");
    }
    count_field(out, "frames:", f->frames, "\n");
    count_field(out, "code objects:", f->codes, "\n");
    count_field(out, "sites:", f->sites, "\n");
    count_field(out, "file size:", f->file_size, " bytes\n");
    field(out, "frame data:");
    an_strbuf_add_thousands(out, f->raw_bytes);
    an_strbuf_addstr(out, " bytes decompressed, ");
    an_strbuf_add_thousands(out, f->compressed_bytes);
    an_strbuf_addstr(out, " compressed\n");
    field(out, "compression ratio:");
    if (f->compressed_bytes)
        an_strbuf_addf(out, "%.2f\n", (double)f->raw_bytes / (double)f->compressed_bytes);
    else
        an_strbuf_addstr(out, "n/a\n");
}

static void
json_list(struct an_strbuf *out, const struct an_strtab *strs, const uint32_t *ids, uint32_t n)
{
    an_strbuf_addch(out, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            an_strbuf_addstr(out, ", ");
        an_json_string(out, an_strtab_get(strs, ids[i]));
    }
    an_strbuf_addch(out, ']');
}

static void
info_json(const struct an_dataset *ds, const struct an_file *f, struct an_strbuf *out)
{
    const struct an_strtab *strs = &ds->strs;
    an_strbuf_addstr(out, "    {\"path\": ");
    an_json_string(out, f->path);
    an_strbuf_addf(out, ", \"format_version\": \"%u.%u\", \"python_version\": ", f->major,
                   f->minor);
    an_json_string(out, an_strtab_get(strs, f->python_version));
    an_strbuf_addstr(out, ", \"mechanism\": ");
    an_json_string(out, an_strtab_get(strs, f->mechanism));
    an_strbuf_addstr(out, ", \"argv\": ");
    json_list(out, strs, f->argv, f->argc);
    an_strbuf_addf(out, ", \"pid\": %" PRIu64 ", \"start_ns\": %" PRId64 ", \"start\": \"", f->pid,
                   f->start_ns);
    add_iso_time(out, f->start_ns);
    an_strbuf_addstr(out, "\", \"duration_ns\": ");
    uint64_t ns;
    if (duration_ns(f, &ns))
        an_strbuf_addf(out, "%" PRIu64, ns);
    else
        an_strbuf_addstr(out, "null");
    an_strbuf_addf(out, ", \"all_instructions\": %s, \"tracked\": ",
                   f->meta_flags & HOPS_META_ALL_INSTRUCTIONS ? "true" : "false");
    json_list(out, strs, f->tracked, f->n_tracked);
    an_strbuf_addstr(out, ", \"file_globs\": ");
    json_list(out, strs, f->file_globs, f->n_file_globs);
    an_strbuf_addf(out, ", \"has_end\": %s, \"clean\": %s, \"exit_status\": ",
                   f->has_end ? "true" : "false", an_file_unclean(f) ? "false" : "true");
    if (f->has_end && f->end.exit_status >= 0)
        an_strbuf_addf(out, "%" PRId32, f->end.exit_status);
    else
        an_strbuf_addstr(out, "null");
    an_strbuf_addf(out, ", \"interference\": %s, \"incomplete\": %s",
                   f->has_end && (f->end.flags & HOPS_END_INTERFERENCE) ? "true" : "false",
                   f->has_end && (f->end.flags & HOPS_END_INCOMPLETE) ? "true" : "false");
    /* what the file says of why: [] where it is complete or does not say */
    an_strbuf_addstr(out, ", \"incomplete_causes\": [");
    const char *sep = "";
    if (f->has_end && (f->end.flags & HOPS_END_NOMEM)) {
        an_strbuf_addstr(out, "\"out of memory\"");
        sep = ", ";
    }
    if (f->has_end && (f->end.flags & HOPS_END_DROPPED))
        an_strbuf_addf(out, "%s\"events dropped\"", sep);
    an_strbuf_addstr(out, "]");
    an_strbuf_addstr(out, ", \"lost_events\": ");
    if (f->has_end)
        an_strbuf_addf(out, "%" PRIu64, f->end.lost_events);
    else
        an_strbuf_addstr(out, "null");
    an_strbuf_addstr(out, ",\n     \"threads\": [");
    for (size_t i = 0; i < f->n_threads; i++) {
        const struct an_thread *t = &ds->threads[f->first_thread + i];
        an_strbuf_addf(out, "%s{\"tid\": %" PRIu64 ", \"native_id\": %" PRIu64 ", \"name\": ",
                       i ? ", " : "", t->tid, t->native_id);
        an_json_string(out, an_strtab_get(strs, t->name));
        an_strbuf_addf(out, ", \"instructions\": %" PRIu64 "}", t->total);
    }
    an_strbuf_addf(out,
                   "],\n     \"frames\": %" PRIu64 ", \"code_objects\": %" PRIu64
                   ", \"sites\": %" PRIu64 ", \"file_size\": %" PRIu64 ", \"frame_bytes\": %" PRIu64
                   ", \"compressed_frame_bytes\": %" PRIu64 ", \"compression_ratio\": ",
                   f->frames, f->codes, f->sites, f->file_size, f->raw_bytes, f->compressed_bytes);
    if (f->compressed_bytes)
        an_strbuf_addf(out, "%.2f}", (double)f->raw_bytes / (double)f->compressed_bytes);
    else
        an_strbuf_addstr(out, "null}");
}

void
an_info_dataset(const struct analyze_opts *o, const struct an_dataset *ds, struct an_strbuf *out)
{
    if (o->format == AN_FORMAT_JSON) {
        an_strbuf_addstr(out, "{\n  \"files\": [\n");
        for (size_t i = 0; i < ds->nfiles; i++) {
            info_json(ds, &ds->files[i], out);
            an_strbuf_addstr(out, i + 1 < ds->nfiles ? ",\n" : "\n");
        }
        an_strbuf_addstr(out, "  ]\n}\n");
        return;
    }
    for (size_t i = 0; i < ds->nfiles; i++) {
        if (i)
            an_strbuf_addch(out, '\n');
        info_text(ds, &ds->files[i], out);
    }
}

int
an_cmd_info(const struct analyze_opts *o, struct an_cmd_io *io)
{
    struct an_dataset ds;
    an_dataset_init(&ds);
    ds.per_thread = 0; /* info shows only each thread's total */
    int rc = an_dataset_load_paths(&ds, o->files, o->nfiles, &io->warn, &io->err);
    if (rc == AN_EXIT_OK)
        an_info_dataset(o, &ds, &io->out);
    an_dataset_release(&ds);
    return rc;
}
