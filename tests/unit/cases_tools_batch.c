/* cases_tools_batch.c — the pieces of `ortc run` on folders (tools/): the
 * ordered decoding pipeline (every item once, in order, failures carried,
 * early stop), folder listing, the results writers and the progress text,
 * against hand-derived expectations. test_tools.c adds these cases; the
 * CLI end to end is tests/models/test_run_folders.py.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"
#include "helper_common.h"
#include "filelist.h"
#include "pipeline.h"
#include "progress.h"
#include "results.h"

/* ---- pipeline ------------------------------------------------------------------ */

#define PL_FLOATS 16

typedef struct pl_ctx {
    int *loads;     /* per item: times loaded (atomic) */
    int fail_every; /* items with index % fail_every == 5 fail; 0: none */
} pl_ctx;

static int pl_load(void *user, size_t index, float *out, char *err, size_t errlen)
{
    pl_ctx *c = user;
    __atomic_fetch_add(&c->loads[index], 1, __ATOMIC_RELAXED);
    /* uneven work, so workers finish out of order */
    unsigned h = (unsigned)(index * 2654435761u);
    if ((h >> 28) < 3)
        usleep((h >> 20) % 200);
    if (c->fail_every && index % (size_t)c->fail_every == 5) {
        snprintf(err, errlen, "item %zu is bad", index);
        return -1;
    }
    for (int k = 0; k < PL_FLOATS; k++)
        out[k] = (float)(index * PL_FLOATS + (size_t)k);
    return 0;
}

static void pl_run_all(size_t n, size_t ahead, int workers, int fail_every)
{
    pl_ctx c = {calloc(n + 1, sizeof(int)), fail_every};
    ck_assert_ptr_nonnull(c.loads);
    ortc_pipeline *p;
    char err[256];
    ck_assert_int_eq(
        ortc_pipeline_start(&p, n, PL_FLOATS, ahead, workers, pl_load, &c, err, sizeof err), 0);
    size_t failures = 0;
    for (size_t want = 0; want < n; want++) {
        const float *data;
        const char *ierr;
        size_t got = ortc_pipeline_next(p, &data, &ierr);
        ck_assert_msg(got == want, "item %zu came when %zu was due", got, want);
        if (fail_every && want % (size_t)fail_every == 5) {
            char msg[64];
            snprintf(msg, sizeof msg, "item %zu is bad", want);
            ck_assert_ptr_null(data);
            ck_assert_ptr_nonnull(ierr);
            ck_assert_str_eq(ierr, msg);
            failures++;
        } else {
            ck_assert_ptr_null(ierr);
            ck_assert_ptr_nonnull(data);
            for (int k = 0; k < PL_FLOATS; k++)
                ck_assert_msg(data[k] == (float)(want * PL_FLOATS + (size_t)k),
                              "item %zu float %d is %g", want, k, (double)data[k]);
        }
        ortc_pipeline_release(p);
    }
    const float *data;
    const char *ierr;
    ck_assert_uint_eq(ortc_pipeline_next(p, &data, &ierr), (size_t)-1);
    ortc_pipeline_stop(p);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(c.loads[i] == 1, "item %zu loaded %d times", i, c.loads[i]);
    if (fail_every)
        ck_assert_uint_eq(failures, (n + (size_t)fail_every - 6) / (size_t)fail_every);
    free(c.loads);
}

START_TEST(test_pipeline_order)
{
    pl_run_all(2000, 7, 4, 37); /* more workers than cores, a small ring */
    pl_run_all(500, 64, 3, 0);  /* a ring bigger than the work in flight */
    pl_run_all(100, 1, 1, 9);   /* one slot, one worker: strictly sequential */
    pl_run_all(3, 50, 8, 0);    /* ring and workers beyond the items */
    pl_run_all(0, 4, 2, 0);     /* nothing to do */
}
END_TEST

START_TEST(test_pipeline_stop_early)
{
    size_t n = 100000, ahead = 8;
    int workers = 3;
    pl_ctx c = {calloc(n, sizeof(int)), 0};
    ck_assert_ptr_nonnull(c.loads);
    ortc_pipeline *p;
    ck_assert_int_eq(ortc_pipeline_start(&p, n, PL_FLOATS, ahead, workers, pl_load, &c, NULL, 0),
                     0);
    for (int i = 0; i < 10; i++) {
        const float *data;
        const char *ierr;
        ck_assert_uint_eq(ortc_pipeline_next(p, &data, &ierr), (size_t)i);
        ortc_pipeline_release(p);
    }
    /* stopped while workers wait for slots: no hang, nothing loaded twice,
     * at most the ring's worth loaded past the consumer */
    ortc_pipeline_stop(p);
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_le(c.loads[i], 1);
        loaded += (size_t)c.loads[i];
    }
    ck_assert_uint_le(loaded, 10 + ahead);
    free(c.loads);
    /* and stopped without taking anything */
    c.loads = calloc(n, sizeof(int));
    ck_assert_int_eq(ortc_pipeline_start(&p, n, PL_FLOATS, ahead, workers, pl_load, &c, NULL, 0),
                     0);
    ortc_pipeline_stop(p);
    free(c.loads);
}
END_TEST

START_TEST(test_pipeline_bad_arguments)
{
    ortc_pipeline *p = (ortc_pipeline *)1;
    char err[128];
    ck_assert_int_eq(ortc_pipeline_start(&p, 10, PL_FLOATS, 0, 1, pl_load, NULL, err, sizeof err),
                     -1);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(ortc_pipeline_start(&p, 10, 0, 4, 1, pl_load, NULL, err, sizeof err), -1);
    ck_assert_int_eq(ortc_pipeline_start(&p, 10, PL_FLOATS, 4, 0, pl_load, NULL, err, sizeof err),
                     -1);
    ck_assert_int_eq(
        ortc_pipeline_start(&p, 10, SIZE_MAX / 2, 4, 1, pl_load, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "overflow") != NULL, "%s", err);
    ortc_pipeline_stop(NULL);
}
END_TEST

/* ---- folder listing -------------------------------------------------------------- */

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot create %s", p);
    fclose(f);
}

static char *mk(const char *base, const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", base, name);
    ck_assert_int_eq(mkdir(p, 0777), 0);
    return p;
}

START_TEST(test_filelist)
{
    char root[] = "/tmp/ortc_filelist.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char d[512], sub[512], empty[512], p[600];
    snprintf(d, sizeof d, "%s", mk(root, "d"));
    snprintf(sub, sizeof sub, "%s", mk(d, "sub"));
    snprintf(empty, sizeof empty, "%s", mk(root, "empty"));
    mk(d, ".hidden");
    touch(d, "b.png");
    touch(d, "a.JPG");
    touch(d, "c.txt");
    touch(d, ".h.png");
    touch(d, "B.jpeg");
    touch(sub, "x.jpeg");
    snprintf(p, sizeof p, "%s/.hidden", d);
    touch(p, "h.png");
    touch(empty, "readme.md");
    mk(empty, "void"); /* a folder with no entries at all */

    ortc_filelist fl;
    memset(&fl, 0, sizeof fl);
    char err[1024];
    const char *args[] = {d, "missing.png"};
    ck_assert_int_eq(ortc_filelist_add(&fl, args, 2, 0, err, sizeof err), 0);
    /* bytewise name order: 'B' < 'a' < 'b'; then the explicit path as given */
    const char *want[] = {"B.jpeg", "a.JPG", "b.png"};
    ck_assert_uint_eq(fl.n, 4);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", d, want[i]);
        ck_assert_str_eq(fl.paths[i], p);
    }
    ck_assert_str_eq(fl.paths[3], "missing.png");
    ck_assert_uint_eq(fl.n_ignored, 1);
    snprintf(p, sizeof p, "%s/c.txt", d);
    ck_assert_str_eq(fl.ignored[0], p);
    ck_assert_int_eq(fl.n_folders, 1);
    ortc_filelist_free(&fl);

    /* recursive: the subfolder's image in its place in name order */
    ck_assert_int_eq(ortc_filelist_add(&fl, args, 1, 1, err, sizeof err), 0);
    ck_assert_uint_eq(fl.n, 4);
    snprintf(p, sizeof p, "%s/sub/x.jpeg", d);
    ck_assert_str_eq(fl.paths[3], p);
    ortc_filelist_free(&fl);

    /* a trailing slash does not double */
    snprintf(p, sizeof p, "%s/", sub);
    const char *slash[] = {p};
    ck_assert_int_eq(ortc_filelist_add(&fl, slash, 1, 0, err, sizeof err), 0);
    ck_assert_uint_eq(fl.n, 1);
    ck_assert_msg(strstr(fl.paths[0], "//") == NULL, "%s", fl.paths[0]);
    ortc_filelist_free(&fl);

    /* a folder without images is an error naming it */
    const char *e[] = {empty};
    ck_assert_int_eq(ortc_filelist_add(&fl, e, 1, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, empty) && strstr(err, "no .png") && strstr(err, "1 other file"), "%s",
                  err);
    ortc_filelist_free(&fl);
    const char *nosub[] = {root}; /* only folders, non-recursive */
    ck_assert_int_eq(ortc_filelist_add(&fl, nosub, 1, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "2 subfolders: add --recursive"), "%s", err);
    ortc_filelist_free(&fl);

    ck_assert(ortc_filelist_is_image_name("x.PnG") && ortc_filelist_is_image_name("a.jpeg"));
    ck_assert(!ortc_filelist_is_image_name(".png") && !ortc_filelist_is_image_name("png"));
    ck_assert(!ortc_filelist_is_image_name("a.png.txt"));

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- results files ----------------------------------------------------------------- */

/* The whole (small) file; the test fails when it cannot be read. */
static char *slurp(const char *path)
{
    static char buf[8192];
    ck_assert_msg(access(path, R_OK) == 0, "cannot read %s", path);
    return read_text(path, buf, sizeof buf);
}

START_TEST(test_results_csv)
{
    char path[] = "/tmp/ortc_results_XXXXXX.csv";
    int fd = mkstemps(path, 4);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ortc_results r;
    char err[256];
    ck_assert_int_eq(ortc_results_open(&r, path, 2, err, sizeof err), 0);
    int64_t cls[2] = {9, 7};
    const char *lbl[2] = {"Ankle boot", "say \"hi\", twice"};
    double p[2] = {0.998877, 1.4705e-09};
    ck_assert_int_eq(ortc_results_write(&r, "a,b.png", 2, cls, lbl, p, err, sizeof err), 0);
    ck_assert_int_eq(ortc_results_write(&r, "plain.png", 1, cls, lbl, p, err, sizeof err), 0);
    ck_assert_int_eq(ortc_results_close(&r, err, sizeof err), 0);
    ck_assert_str_eq(slurp(path),
                     "path,class_1,label_1,probability_1,class_2,label_2,probability_2\n"
                     "\"a,b.png\",9,Ankle boot,0.998877,7,\"say \"\"hi\"\", twice\",1.4705e-09\n"
                     "plain.png,9,Ankle boot,0.998877,,,\n");
    unlink(path);
    ck_assert_int_eq(ortc_results_open(&r, "/nonexistent/dir/x.csv", 2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/dir/x.csv: cannot create"), "%s", err);
    ck_assert_int_eq(ortc_results_open(&r, "x.txt", 2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, ".csv or .jsonl"), "%s", err);
    ortc_results_format f;
    ck_assert(ortc_results_format_of("R.CSV", &f) == 0 && f == ORTC_RESULTS_CSV);
    ck_assert(ortc_results_format_of("r.jsonl", &f) == 0 && f == ORTC_RESULTS_JSONL);
    ck_assert_int_eq(ortc_results_format_of("r.json", &f), -1);
    ck_assert_int_eq(ortc_results_format_of(".csv", &f), -1);
}
END_TEST

START_TEST(test_results_jsonl)
{
    char path[] = "/tmp/ortc_results_XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ortc_results r;
    char err[256];
    ck_assert_int_eq(ortc_results_open(&r, path, 3, err, sizeof err), 0);
    int64_t cls[2] = {2, 6};
    const char *lbl[2] = {"Pullover", "line\nbreak"};
    double p[2] = {0.75, 0.25};
    ck_assert_int_eq(ortc_results_write(&r, "dir/\"q\".png", 2, cls, lbl, p, err, sizeof err), 0);
    ck_assert_int_eq(ortc_results_close(&r, err, sizeof err), 0);
    char *text = slurp(path);
    char *nl = strchr(text, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "not one line: %s", text);
    cJSON *o = cJSON_Parse(text);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "path")->valuestring, "dir/\"q\".png");
    cJSON *top = cJSON_GetObjectItem(o, "top");
    ck_assert_int_eq(cJSON_GetArraySize(top), 2);
    cJSON *second = cJSON_GetArrayItem(top, 1);
    ck_assert_int_eq(cJSON_GetObjectItem(second, "rank")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(second, "class")->valueint, 6);
    ck_assert_str_eq(cJSON_GetObjectItem(second, "label")->valuestring, "line\nbreak");
    ck_assert(cJSON_GetObjectItem(second, "probability")->valuedouble == 0.25);
    cJSON_Delete(o);
    unlink(path);
}
END_TEST

/* ---- progress text ----------------------------------------------------------------- */

START_TEST(test_progress_format)
{
    char buf[256];
    /* 4512 in 5.556 s: 812.09/s; 5488 left: 6.76 s -> 0:07 */
    ortc_progress_format(buf, sizeof buf, 80, 4512, 10000, 5.556);
    ck_assert_msg(strstr(buf, " 4512/10000 [") == buf, "%s", buf);
    ck_assert_msg(strstr(buf, "]  812 images/s  ETA 0:07"), "%s", buf);
    ck_assert_int_le((int)strlen(buf), 79);
    /* the bar: 45% of its width is '=' then '>' */
    const char *bar = strchr(buf, '[') + 1;
    int width = (int)(strchr(buf, ']') - bar), fill = (int)(strchr(bar, '>') - bar);
    ck_assert_int_eq(fill, (int)(width * 0.4512));
    /* nothing done yet: no rate, unknown ETA */
    ortc_progress_format(buf, sizeof buf, 80, 0, 7, 0.5);
    ck_assert_msg(strstr(buf, "0/7 [") && strstr(buf, "ETA --:--") && !strstr(buf, "/s"), "%s",
                  buf);
    /* done: the elapsed time; hours when long; slow rates with a decimal */
    ortc_progress_format(buf, sizeof buf, 80, 7, 7, 3725.0);
    ck_assert_msg(strstr(buf, "  0.0 images/s  in 1:02:05"), "%s", buf);
    /* a narrow terminal drops the bar, not the numbers */
    ortc_progress_format(buf, sizeof buf, 30, 4512, 10000, 5.556);
    ck_assert_str_eq(buf, " 4512/10000  812 images/s  ETA 0:07");
}
END_TEST

void ortc_cases_tools_batch(Suite *s)
{
    TCase *tc = tcase_create("batch");
    tcase_add_test(tc, test_pipeline_order);
    tcase_add_test(tc, test_pipeline_stop_early);
    tcase_add_test(tc, test_pipeline_bad_arguments);
    tcase_add_test(tc, test_filelist);
    tcase_add_test(tc, test_results_csv);
    tcase_add_test(tc, test_results_jsonl);
    tcase_add_test(tc, test_progress_format);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
}
