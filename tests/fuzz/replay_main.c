/* replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput on every file
 * under the paths given (saved crashes, seed folders, searched recursively),
 * so each build's test suite replays them; exits non-zero if a path is
 * missing or nothing was replayed. Crashes and sanitizer reports end the
 * process, failing the test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = buf && n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf || (n > 0 && got != (size_t)n)) {
        free(buf);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

/* Replays path (a file, or every file below a folder); -1 on error. */
static int replay_tree(const char *path, int *files)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        if (replay_file(path))
            return -1;
        (*files)++;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: cannot open folder %s\n", path);
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
            continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
            continue;
        rc = replay_tree(sub, files);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int a = 1; a < argc; a++)
        if (replay_tree(argv[a], &files))
            return 1;
    printf("replayed %d inputs\n", files);
    return files ? 0 : 1;
}
