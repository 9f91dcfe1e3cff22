/* filelist.c — expands `ortc run`'s PATH arguments into files: folders are
 * listed (sorted, optionally recursively) and filtered by file name; other
 * paths pass through untouched. Opens no file, decodes nothing.
 */
#include "filelist.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int ortc_filelist_is_image_name(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcasecmp(name + n - e, exts[i]))
            return 1;
    }
    return 0;
}

/* Appends a malloc'd copy of s to *arr (grown by doubling). 0 / -1. */
static int push(char ***arr, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        char **p = realloc(*arr, c * sizeof *p);
        if (!p)
            return -1;
        *arr = p;
        *cap = c;
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    (*arr)[(*n)++] = copy;
    return 0;
}

static int note_ignored(ortc_filelist *list, const char *path)
{
    list->n_ignored++;
    if (list->n_ignored > ORTC_FILELIST_IGNORED_KEPT)
        return 0;
    size_t cap = ORTC_FILELIST_IGNORED_KEPT, n = list->n_ignored - 1;
    if (!list->ignored) {
        list->ignored = calloc(cap, sizeof *list->ignored);
        if (!list->ignored)
            return -1;
    }
    list->ignored[n] = strdup(path);
    return list->ignored[n] ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t nd = strlen(dir), nn = strlen(name);
    int slash = nd > 0 && dir[nd - 1] == '/';
    char *p = malloc(nd + nn + 2);
    if (p)
        snprintf(p, nd + nn + 2, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

/* Counts of what one folder (and, recursively, its subfolders) held. */
typedef struct walk_counts {
    size_t images, others, subfolders;
} walk_counts;

/* Lists `dir` sorted; adds image files, recurses into subfolders when asked.
 * A folder that cannot be opened: -1 with err set when it is the argument
 * itself (depth 0), else it is noted in list->unreadable. -2: out of memory. */
static int walk(ortc_filelist *list, const char *dir, int recursive, int depth, walk_counts *wc,
                char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        char msg[4096];
        snprintf(msg, sizeof msg, "%s: cannot read folder: %s", dir, strerror(errno));
        if (depth == 0) {
            ortc_tools_err(err, errlen, "%s", msg);
            return -1;
        }
        size_t cap = list->n_unreadable;
        return push(&list->unreadable, &list->n_unreadable, &cap, msg) ? -2 : 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* ., .., and hidden files and folders */
            continue;
        if (push(&names, &n, &cap, e->d_name)) {
            rc = -2;
            break;
        }
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = join(dir, names[i]);
        if (!path) {
            rc = -2;
            break;
        }
        struct stat st, lst;
        int is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
        int ok = stat(path, &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) {
            wc->subfolders++;
            if (recursive && !is_link)
                rc = walk(list, path, recursive, depth + 1, wc, err, errlen);
        } else if (ok && S_ISREG(st.st_mode) && ortc_filelist_is_image_name(names[i])) {
            size_t c = list->cap;
            rc = push(&list->paths, &list->n, &c, path) ? -2 : 0;
            list->cap = c;
            wc->images++;
        } else if (!ok && ortc_filelist_is_image_name(names[i])) {
            /* a dangling link named as an image: reading it reports why */
            size_t c = list->cap;
            rc = push(&list->paths, &list->n, &c, path) ? -2 : 0;
            list->cap = c;
            wc->images++;
        } else {
            wc->others++;
            rc = note_ignored(list, path) ? -2 : 0;
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int ortc_filelist_add(ortc_filelist *list, const char *const *args, size_t n_args, int recursive,
                      char *err, size_t errlen)
{
    for (size_t a = 0; a < n_args; a++) {
        struct stat st;
        if (stat(args[a], &st) == 0 && S_ISDIR(st.st_mode)) {
            walk_counts wc = {0, 0, 0};
            list->n_folders++;
            int rc = walk(list, args[a], recursive, 0, &wc, err, errlen);
            if (rc == -2) {
                ortc_tools_err(err, errlen, "out of memory listing %s", args[a]);
                return -1;
            }
            if (rc)
                return -1;
            if (wc.images == 0) {
                char why[160] = "";
                if (!recursive && wc.subfolders)
                    snprintf(why, sizeof why, " (it has %zu subfolder%s: add --recursive)",
                             wc.subfolders, wc.subfolders == 1 ? "" : "s");
                else if (wc.others)
                    snprintf(why, sizeof why, " (%zu other file%s)", wc.others,
                             wc.others == 1 ? "" : "s");
                ortc_tools_err(err, errlen, "%s: no .png, .jpg or .jpeg files in this folder%s%s",
                               args[a], recursive ? " or its subfolders" : "", why);
                return -1;
            }
            continue;
        }
        size_t c = list->cap;
        if (push(&list->paths, &list->n, &c, args[a])) {
            ortc_tools_err(err, errlen, "out of memory");
            return -1;
        }
        list->cap = c;
    }
    return 0;
}

void ortc_filelist_free(ortc_filelist *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->paths[i]);
    size_t kept =
        list->n_ignored < ORTC_FILELIST_IGNORED_KEPT ? list->n_ignored : ORTC_FILELIST_IGNORED_KEPT;
    for (size_t i = 0; list->ignored && i < kept; i++)
        free(list->ignored[i]);
    for (size_t i = 0; i < list->n_unreadable; i++)
        free(list->unreadable[i]);
    free(list->paths);
    free(list->ignored);
    free(list->unreadable);
    memset(list, 0, sizeof *list);
}
