/*
 * hops_fuzz_replay.c - runs LLVMFuzzerTestOneInput over the files named on
 * the command line (directories are walked one level), so the fuzz corpus
 * and tests/golden-errors/ replay as an ordinary test under any compiler
 * (lz4's standaloneengine.c, zstd's regression_driver.c).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "hops-fuzz-replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    /* An exact-size heap copy, so ASan sees reads past the end. */
    data = malloc(size ? (size_t)size : 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "hops-fuzz-replay: cannot read %s\n", path);
        free(data);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    int failed = 0, n = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *e;

        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            failed |= replay_file(argv[i]);
            n++;
            continue;
        }
        d = opendir(argv[i]);
        while (d && (e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            failed |= replay_file(path);
            n++;
        }
        if (d)
            closedir(d);
    }
    printf("replayed %d file(s)\n", n);
    return failed;
}
