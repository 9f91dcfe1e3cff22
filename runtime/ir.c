/* ir.c — construction, lookup and validation of the in-memory graph.
 * Owns every string, value, node, attribute and constant of a model; does
 * not infer shapes or choose kernels (see compile.c).
 */
#include "ir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* ---- small helpers ------------------------------------------------------ */

/* A malloc'd copy; NULL copies as "". */
static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

/* ---- name map: open addressing, string keys owned by the values -------- */

typedef struct ortc_name_map {
    ortc_value **slots;
    size_t cap; /* power of two */
    size_t count;
} ortc_name_map;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static ortc_value *map_get(const ortc_name_map *m, const char *name)
{
    if (!m || !m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        ortc_value *v = m->slots[i];
        if (!v)
            return NULL;
        if (strcmp(v->name, name) == 0)
            return v;
    }
}

static int map_put(ortc_name_map *m, ortc_value *v)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        ortc_value **ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            ortc_value *x = m->slots[i];
            if (!x)
                continue;
            size_t j = hash_str(x->name) & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = x;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = nc;
    }
    size_t j = hash_str(v->name) & (m->cap - 1);
    while (m->slots[j])
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = v;
    m->count++;
    return 0;
}

/* ---- dtypes and tensors --------------------------------------------------- */

size_t ortc_dtype_size(ortc_dtype dtype)
{
    switch (dtype) {
    case ORTC_DTYPE_FLOAT: return 4;
    case ORTC_DTYPE_UINT8: return 1;
    case ORTC_DTYPE_INT8: return 1;
    case ORTC_DTYPE_UINT16: return 2;
    case ORTC_DTYPE_INT16: return 2;
    case ORTC_DTYPE_INT32: return 4;
    case ORTC_DTYPE_INT64: return 8;
    case ORTC_DTYPE_STRING: return sizeof(char *);
    case ORTC_DTYPE_BOOL: return 1;
    case ORTC_DTYPE_FLOAT16: return 2;
    case ORTC_DTYPE_DOUBLE: return 8;
    case ORTC_DTYPE_UINT32: return 4;
    case ORTC_DTYPE_UINT64: return 8;
    case ORTC_DTYPE_COMPLEX64: return 8;
    case ORTC_DTYPE_COMPLEX128: return 16;
    case ORTC_DTYPE_BFLOAT16: return 2;
    case ORTC_DTYPE_UNDEFINED: return 0;
    }
    return 0;
}

const char *ortc_dtype_name(ortc_dtype dtype)
{
    switch (dtype) {
    case ORTC_DTYPE_FLOAT: return "float32";
    case ORTC_DTYPE_UINT8: return "uint8";
    case ORTC_DTYPE_INT8: return "int8";
    case ORTC_DTYPE_UINT16: return "uint16";
    case ORTC_DTYPE_INT16: return "int16";
    case ORTC_DTYPE_INT32: return "int32";
    case ORTC_DTYPE_INT64: return "int64";
    case ORTC_DTYPE_STRING: return "string";
    case ORTC_DTYPE_BOOL: return "bool";
    case ORTC_DTYPE_FLOAT16: return "float16";
    case ORTC_DTYPE_DOUBLE: return "float64";
    case ORTC_DTYPE_UINT32: return "uint32";
    case ORTC_DTYPE_UINT64: return "uint64";
    case ORTC_DTYPE_COMPLEX64: return "complex64";
    case ORTC_DTYPE_COMPLEX128: return "complex128";
    case ORTC_DTYPE_BFLOAT16: return "bfloat16";
    case ORTC_DTYPE_UNDEFINED: return "undefined";
    }
    return "undefined";
}

int64_t ortc_tensor_numel(const ortc_tensor *t)
{
    if (!t || t->rank < 0 || t->rank > ORTC_MAX_RANK)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i];
        if (d < 0)
            return -1;
        if (d && n > INT64_MAX / d)
            return -1;
        n *= d;
    }
    return n;
}

size_t ortc_tensor_bytes(const ortc_tensor *t)
{
    int64_t n = ortc_tensor_numel(t);
    size_t es = ortc_dtype_size(t ? t->dtype : ORTC_DTYPE_UNDEFINED);
    if (n < 0 || !es || (uint64_t)n > SIZE_MAX / es)
        return 0;
    return (size_t)n * es;
}

ortc_const_tensor *ortc_const_tensor_new(ortc_dtype dtype, int rank, const int64_t *dims)
{
    if (rank < 0 || rank > ORTC_MAX_RANK)
        return NULL;
    ortc_const_tensor *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t.dtype = dtype;
    c->t.rank = rank;
    for (int i = 0; i < rank; i++)
        c->t.dims[i] = dims[i];
    int64_t n = ortc_tensor_numel(&c->t);
    size_t es = ortc_dtype_size(dtype);
    if (n < 0 || !es || (uint64_t)n > SIZE_MAX / es) {
        free(c);
        return NULL;
    }
    size_t bytes = (size_t)n * es;
    /* 64-byte aligned for vector kernels; at least one byte so data != NULL */
    size_t alloc = (bytes + 63) & ~(size_t)63;
    c->owned = aligned_alloc(64, alloc ? alloc : 64);
    if (!c->owned) {
        free(c);
        return NULL;
    }
    memset(c->owned, 0, alloc ? alloc : 64);
    c->t.data = c->owned;
    return c;
}

void ortc_const_tensor_free(ortc_const_tensor *c)
{
    if (!c)
        return;
    if (c->t.dtype == ORTC_DTYPE_STRING && c->owned) {
        int64_t n = ortc_tensor_numel(&c->t);
        char **s = c->owned;
        for (int64_t i = 0; i < n; i++)
            free(s[i]);
    }
    free(c->owned);
    ortc_const_origin_unref(c->origin);
    free(c);
}

/* ---- constants that can be read again ----------------------------------- */

struct ortc_const_origin {
    atomic_int refs;
    int fd;
    uint64_t size;
    struct stat seen; /* the file when it was loaded: a later change is refused */
};

/* Whether the file behind o is the one that was loaded: same size, same
 * modification and status-change times. Replacing the file by a rename
 * leaves the loaded one (still open) unchanged; writing it in place does not. */
static bool origin_unchanged(const ortc_const_origin *o)
{
    struct stat now;
    if (fstat(o->fd, &now))
        return false;
    return now.st_size == o->seen.st_size && now.st_mtim.tv_sec == o->seen.st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == o->seen.st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == o->seen.st_ctim.tv_sec &&
           now.st_ctim.tv_nsec == o->seen.st_ctim.tv_nsec;
}

ortc_const_origin *ortc_const_origin_new(int fd, uint64_t size)
{
    ortc_const_origin *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (o->fd < 0) {
        free(o);
        return NULL;
    }
    if (fstat(o->fd, &o->seen)) {
        close(o->fd);
        free(o);
        return NULL;
    }
    atomic_init(&o->refs, 1);
    o->size = size;
    return o;
}

ortc_const_origin *ortc_const_origin_ref(ortc_const_origin *o)
{
    if (o)
        atomic_fetch_add(&o->refs, 1);
    return o;
}

void ortc_const_origin_unref(ortc_const_origin *o)
{
    if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    close(o->fd);
    free(o);
}

void ortc_const_release(ortc_const_tensor *c)
{
    if (!c || !c->origin || c->released || c->t.dtype == ORTC_DTYPE_STRING)
        return;
    free(c->owned);
    c->owned = NULL;
    c->t.data = NULL;
    c->released = true;
}

ortc_status ortc_const_reacquire(ortc_const_tensor *c, const char *name, ortc_errbuf *err)
{
    if (!c || !c->released)
        return ORTC_STATUS_OK;
    size_t bytes = ortc_tensor_bytes(&c->t);
    uint64_t at = c->origin_offset;
    if (!origin_unchanged(c->origin))
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR,
                            "constant '%s' cannot be read again: the model file changed since it "
                            "was loaded (size or modification time); create the session again",
                            name);
    if (at > c->origin->size || bytes > c->origin->size - at)
        return ortc_err_set(err, ORTC_STATUS_IO_ERROR,
                            "constant '%s': bytes %llu..%llu lie past the model file's end", name,
                            (unsigned long long)at, (unsigned long long)(at + bytes));
    size_t alloc = (bytes + 63) & ~(size_t)63;
    char *p = aligned_alloc(64, alloc ? alloc : 64);
    if (!p)
        return ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY,
                            "constant '%s': out of memory reading it again (%zu bytes)", name,
                            bytes);
    memset(p + bytes, 0, (alloc ? alloc : 64) - bytes);
    size_t done = 0;
    while (done < bytes) {
        ssize_t r = pread(c->origin->fd, p + done, bytes - done, (off_t)(at + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            free(p);
            return ortc_err_set(err, ORTC_STATUS_IO_ERROR,
                                "constant '%s': reading it again from byte %llu of the model file "
                                "failed: %s",
                                name, (unsigned long long)(at + done),
                                e ? strerror(e) : "the file shrank since it was loaded");
        }
        done += (size_t)r;
    }
    c->owned = p;
    c->t.data = p;
    c->released = false;
    return ORTC_STATUS_OK;
}

/* ---- model ---------------------------------------------------------------- */

ortc_model *ortc_model_new(void)
{
    ortc_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->producer_name = dup_str("");
    m->producer_version = dup_str("");
    m->domain = dup_str("");
    m->doc = dup_str("");
    m->path = dup_str("");
    m->graph_doc = dup_str("");
    if (!m->producer_name || !m->producer_version || !m->domain || !m->doc || !m->path ||
        !m->graph_doc) {
        ortc_model_free(m);
        return NULL;
    }
    return m;
}

void ortc_model_free(ortc_model *m)
{
    if (!m)
        return;
    ortc_graph_free(m->graph);
    for (int i = 0; i < m->n_opsets; i++)
        free(m->opsets[i].domain);
    free(m->opsets);
    free(m->producer_name);
    free(m->producer_version);
    free(m->domain);
    free(m->doc);
    free(m->path);
    free(m->dir);
    for (int i = 0; i < m->n_meta; i++) {
        free(m->meta_keys[i]);
        free(m->meta_values[i]);
    }
    free(m->meta_keys);
    free(m->meta_values);
    free(m->graph_doc);
    free(m);
}

static const char *norm_domain(const char *d)
{
    if (!d || strcmp(d, "ai.onnx") == 0)
        return "";
    return d;
}

int ortc_model_add_opset(ortc_model *m, const char *domain, int64_t version)
{
    ortc_opset_import *p = realloc(m->opsets, (size_t)(m->n_opsets + 1) * sizeof *p);
    if (!p)
        return -1;
    m->opsets = p;
    p[m->n_opsets].domain = dup_str(norm_domain(domain));
    if (!p[m->n_opsets].domain)
        return -1;
    p[m->n_opsets].version = version;
    m->n_opsets++;
    return 0;
}

int64_t ortc_model_opset_version(const ortc_model *m, const char *domain)
{
    domain = norm_domain(domain);
    for (int i = 0; i < m->n_opsets; i++)
        if (strcmp(m->opsets[i].domain, domain) == 0)
            return m->opsets[i].version;
    return -1;
}

/* ---- graph ---------------------------------------------------------------- */

ortc_graph *ortc_graph_new(ortc_model *model, ortc_graph *parent, const char *name)
{
    ortc_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->model = model;
    g->parent = parent;
    g->name = dup_str(name);
    g->map = calloc(1, sizeof *g->map);
    if (!g->name || !g->map) {
        ortc_graph_free(g);
        return NULL;
    }
    return g;
}

static void attr_clear(ortc_attr *a)
{
    free(a->name);
    free(a->s);
    ortc_const_tensor_free(a->t);
    ortc_graph_free(a->g);
    free(a->floats);
    free(a->ints);
    for (size_t i = 0; i < a->n; i++) { /* the list that is set */
        if (a->strings)
            free(a->strings[i]);
        if (a->tensors)
            ortc_const_tensor_free(a->tensors[i]);
        if (a->graphs)
            ortc_graph_free(a->graphs[i]);
    }
    free(a->strings);
    free(a->tensors);
    free(a->graphs);
}

void ortc_node_free(ortc_node *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->inputs);
    free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++)
        attr_clear(&n->attrs[i]);
    free(n->attrs);
    free(n->implicit_inputs);
    free(n);
}

ortc_graph *ortc_node_next_subgraph(const ortc_node *n, ortc_subgraph_it *it)
{
    for (; it->attr < n->n_attrs; it->attr++, it->item = 0) {
        const ortc_attr *a = &n->attrs[it->attr];
        while (it->item <= (a->graphs ? a->n : 0)) {
            size_t i = it->item++;
            ortc_graph *g = i ? a->graphs[i - 1] : a->g;
            if (g)
                return g;
        }
    }
    return NULL;
}

static void value_free(ortc_value *v)
{
    if (!v)
        return;
    free(v->name);
    for (int i = 0; i < ORTC_MAX_RANK; i++)
        free(v->dims[i].param);
    ortc_const_tensor_free(v->constant);
    free(v->uses);
    free(v);
}

void ortc_graph_free(ortc_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++)
        ortc_node_free(g->nodes[i]);
    free(g->nodes);
    for (int i = 0; i < g->n_values; i++)
        value_free(g->values[i]);
    free(g->values);
    free(g->inputs);
    free(g->outputs);
    if (g->map)
        free(g->map->slots);
    free(g->map);
    free(g->name);
    free(g);
}

ortc_value *ortc_graph_find_local(const ortc_graph *g, const char *name)
{
    return map_get(g->map, name);
}

ortc_value *ortc_graph_find_value(const ortc_graph *g, const char *name)
{
    for (; g; g = g->parent) {
        ortc_value *v = map_get(g->map, name);
        if (v)
            return v;
    }
    return NULL;
}

ortc_value *ortc_graph_get_value(ortc_graph *g, const char *name)
{
    ortc_value *v = map_get(g->map, name);
    if (v)
        return v;
    if (grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values))
        return NULL;
    v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->name = dup_str(name);
    if (!v->name || map_put(g->map, v)) {
        free(v->name);
        free(v);
        return NULL;
    }
    v->graph = g;
    v->index = g->n_values;
    v->rank = -1;
    v->kind = ORTC_VALUE_INTERMEDIATE;
    for (int i = 0; i < ORTC_MAX_RANK; i++)
        v->dims[i].value = -1;
    g->values[g->n_values++] = v;
    return v;
}

ortc_node *ortc_graph_add_node(ortc_graph *g, const char *op_type, const char *domain,
                               const char *name, int n_inputs, int n_outputs)
{
    if (n_inputs < 0 || n_outputs < 0)
        return NULL;
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return NULL;
    ortc_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->op_type = dup_str(op_type);
    n->domain = dup_str(norm_domain(domain));
    n->name = dup_str(name);
    n->inputs = calloc((size_t)n_inputs + 1, sizeof *n->inputs);
    n->outputs = calloc((size_t)n_outputs + 1, sizeof *n->outputs);
    if (!n->op_type || !n->domain || !n->name || !n->inputs || !n->outputs) {
        ortc_node_free(n);
        return NULL;
    }
    n->n_inputs = n_inputs;
    n->n_outputs = n_outputs;
    n->index = g->n_nodes;
    if (g->model) {
        int64_t v = ortc_model_opset_version(g->model, n->domain);
        n->opset = v > 0 && v < 100000 ? (int)v : -1;
    } else {
        n->opset = -1;
    }
    g->nodes[g->n_nodes++] = n;
    return n;
}

int ortc_node_add_post_op(ortc_node *n, ortc_post_op po)
{
    if (n->n_post_ops >= ORTC_MAX_POST_OPS)
        return -1;
    n->post_ops[n->n_post_ops++] = po;
    return 0;
}

ortc_attr *ortc_node_add_attr(ortc_node *n, const char *name, ortc_attr_type type)
{
    ortc_attr *p = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *p);
    if (!p)
        return NULL;
    n->attrs = p;
    ortc_attr *a = &p[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = dup_str(name);
    if (!a->name)
        return NULL;
    a->type = type;
    n->n_attrs++;
    return a;
}

static int add_ptr(ortc_value ***arr, int *n, ortc_value *v)
{
    ortc_value **p = realloc(*arr, (size_t)(*n + 1) * sizeof *p);
    if (!p)
        return -1;
    p[(*n)++] = v;
    *arr = p;
    return 0;
}

int ortc_graph_add_input(ortc_graph *g, ortc_value *v)
{
    v->kind = ORTC_VALUE_INPUT;
    return add_ptr(&g->inputs, &g->n_inputs, v);
}

int ortc_graph_add_output(ortc_graph *g, ortc_value *v)
{
    /* a subgraph may output an enclosing graph's value: that value is not
     * thereby an output of its own graph */
    if (v->graph == g)
        v->is_output = true;
    return add_ptr(&g->outputs, &g->n_outputs, v);
}

void ortc_value_set_constant(ortc_value *v, ortc_const_tensor *t)
{
    ortc_const_tensor_free(v->constant);
    v->constant = t;
    v->kind = ORTC_VALUE_CONSTANT;
    v->dtype = t->t.dtype;
    v->rank = t->t.rank;
    for (int i = 0; i < ORTC_MAX_RANK; i++) {
        free(v->dims[i].param);
        v->dims[i].param = NULL;
        v->dims[i].value = i < t->t.rank ? t->t.dims[i] : -1;
    }
}

void ortc_value_set_shape(ortc_value *v, ortc_dtype dtype, int rank, const int64_t *dims)
{
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < ORTC_MAX_RANK; i++) {
        free(v->dims[i].param);
        v->dims[i].param = NULL;
        v->dims[i].value = (i < rank && dims) ? dims[i] : -1;
    }
}

/* ---- finalize: links, implicit inputs, topological order ----------------- */

static int add_use(ortc_value *v, ortc_node *n, int input)
{
    if (v->n_uses == v->cap_uses) {
        int nc = v->cap_uses ? v->cap_uses * 2 : 4;
        ortc_use *p = realloc(v->uses, (size_t)nc * sizeof *p);
        if (!p)
            return -1;
        v->uses = p;
        v->cap_uses = nc;
    }
    v->uses[v->n_uses].node = n;
    v->uses[v->n_uses].input = input;
    v->n_uses++;
    return 0;
}

static bool graph_is_ancestor_or_self(const ortc_graph *anc, const ortc_graph *g)
{
    for (; g; g = g->parent)
        if (g == anc)
            return true;
    return false;
}

/* Adds v to n's implicit inputs when it is read from subgraph sg but lives
 * in graph `outer` or above (once). */
static int add_outer(ortc_node *n, ortc_value *v, const ortc_graph *sg, const ortc_graph *outer)
{
    if (!v || v->graph == sg || !graph_is_ancestor_or_self(v->graph, outer))
        return 0;
    for (int j = 0; j < n->n_implicit; j++)
        if (n->implicit_inputs[j] == v)
            return 0;
    return add_ptr(&n->implicit_inputs, &n->n_implicit, v);
}

/* Adds to `n` every value read by subgraph `sg` (recursively) that lives in
 * graph `outer` or above. */
static int collect_outer(ortc_node *n, const ortc_graph *sg, const ortc_graph *outer)
{
    for (int i = 0; i < sg->n_nodes; i++) {
        ortc_node *m = sg->nodes[i];
        for (int k = 0; k < m->n_inputs; k++)
            if (add_outer(n, m->inputs[k], sg, outer))
                return -1;
        ortc_subgraph_it it = {0};
        for (const ortc_graph *ssg; (ssg = ortc_node_next_subgraph(m, &it));)
            if (collect_outer(n, ssg, outer))
                return -1;
    }
    /* outputs of the subgraph may name outer values directly */
    for (int k = 0; k < sg->n_outputs; k++)
        if (add_outer(n, sg->outputs[k], sg, outer))
            return -1;
    return 0;
}

static const char *node_label(char *buf, size_t len, const ortc_node *n)
{
    snprintf(buf, len, "'%s' (%s%s%s)", n->name, n->domain[0] ? n->domain : "",
             n->domain[0] ? "." : "", n->op_type);
    return buf;
}

/* min-heap of node indices */
static void heap_push(int *h, int *n, int x)
{
    int i = (*n)++;
    h[i] = x;
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int p = (i - 1) / 2, t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static int heap_pop(int *h, int *n)
{
    int top = h[0];
    h[0] = h[--(*n)];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && h[l] < h[m])
            m = l;
        if (r < *n && h[r] < h[m])
            m = r;
        if (m == i)
            break;
        int t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
    return top;
}

ortc_status ortc_graph_finalize(ortc_graph *g, char *err, size_t errlen)
{
    char la[300], lb[300];
    /* subgraphs first: their own checks, then implicit inputs */
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        n->n_implicit = 0;
        ortc_subgraph_it it = {0};
        for (ortc_graph *sg; (sg = ortc_node_next_subgraph(n, &it));) {
            ortc_status st = ortc_graph_finalize(sg, err, errlen);
            if (st) {
                char tmp[ORTC_ERR_MAX];
                snprintf(tmp, sizeof tmp, "in subgraph '%s' of node %s: %s", n->attrs[it.attr].name,
                         node_label(la, sizeof la, n), err);
                snprintf(err, errlen, "%s", tmp);
                return st;
            }
            if (collect_outer(n, sg, g)) {
                snprintf(err, errlen, "out of memory");
                return ORTC_STATUS_OUT_OF_MEMORY;
            }
        }
    }

    for (int i = 0; i < g->n_values; i++) {
        ortc_value *v = g->values[i];
        v->n_uses = 0;
        if (v->kind == ORTC_VALUE_INTERMEDIATE)
            v->producer = NULL;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        n->index = i;
        for (int k = 0; k < n->n_outputs; k++) {
            ortc_value *v = n->outputs[k];
            if (!v)
                continue;
            if (v->graph != g) {
                snprintf(err, errlen, "node %s output '%s' names a value of an enclosing graph",
                         node_label(la, sizeof la, n), v->name);
                return ORTC_STATUS_INVALID_MODEL;
            }
            if (v->kind != ORTC_VALUE_INTERMEDIATE) {
                snprintf(err, errlen, "node %s output '%s' is also a graph %s",
                         node_label(la, sizeof la, n), v->name,
                         v->kind == ORTC_VALUE_INPUT ? "input" : "initializer");
                return ORTC_STATUS_INVALID_MODEL;
            }
            if (v->producer) {
                snprintf(err, errlen, "value '%s' is produced by two nodes: %s and %s", v->name,
                         node_label(la, sizeof la, v->producer), node_label(lb, sizeof lb, n));
                return ORTC_STATUS_INVALID_MODEL;
            }
            v->producer = n;
            v->producer_output = k;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            ortc_value *v = n->inputs[k];
            if (!v)
                continue;
            if (v->kind == ORTC_VALUE_INTERMEDIATE && !v->producer && v->graph == g) {
                snprintf(err, errlen,
                         "node %s input %d '%s' is not a graph input, an initializer or the "
                         "output of any node",
                         node_label(la, sizeof la, n), k, v->name);
                return ORTC_STATUS_INVALID_MODEL;
            }
            if (v->graph == g && add_use(v, n, k)) {
                snprintf(err, errlen, "out of memory");
                return ORTC_STATUS_OUT_OF_MEMORY;
            }
        }
        for (int k = 0; k < n->n_implicit; k++) {
            ortc_value *v = n->implicit_inputs[k];
            if (v->graph == g && v->kind == ORTC_VALUE_INTERMEDIATE && !v->producer) {
                snprintf(err, errlen, "a subgraph of node %s reads '%s', which nothing produces",
                         node_label(la, sizeof la, n), v->name);
                return ORTC_STATUS_INVALID_MODEL;
            }
            if (v->graph == g && add_use(v, n, -1)) {
                snprintf(err, errlen, "out of memory");
                return ORTC_STATUS_OUT_OF_MEMORY;
            }
        }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        ortc_value *v = g->outputs[k];
        if (v->graph == g && v->kind == ORTC_VALUE_INTERMEDIATE && !v->producer) {
            snprintf(err, errlen,
                     "graph output '%s' is not produced by any node, nor an input "
                     "or initializer",
                     v->name);
            return ORTC_STATUS_INVALID_MODEL;
        }
    }

    /* Kahn's algorithm, smallest file index first so valid files keep order */
    int n = g->n_nodes;
    if (n == 0)
        return ORTC_STATUS_OK;
    int *indeg = calloc((size_t)n, sizeof *indeg);
    int *heap = malloc((size_t)n * sizeof *heap);
    ortc_node **order = malloc((size_t)n * sizeof *order);
    if (!indeg || !heap || !order) {
        free(indeg);
        free(heap);
        free(order);
        snprintf(err, errlen, "out of memory");
        return ORTC_STATUS_OUT_OF_MEMORY;
    }
    for (int i = 0; i < n; i++) {
        ortc_node *nd = g->nodes[i];
        for (int k = 0; k < nd->n_inputs + nd->n_implicit; k++) {
            ortc_value *v =
                k < nd->n_inputs ? nd->inputs[k] : nd->implicit_inputs[k - nd->n_inputs];
            if (v && v->graph == g && v->producer)
                indeg[i]++;
        }
    }
    int hn = 0, done = 0;
    for (int i = 0; i < n; i++)
        if (!indeg[i])
            heap_push(heap, &hn, i);
    while (hn) {
        int i = heap_pop(heap, &hn);
        ortc_node *nd = g->nodes[i];
        order[done++] = nd;
        for (int k = 0; k < nd->n_outputs; k++) {
            ortc_value *v = nd->outputs[k];
            if (!v)
                continue;
            for (int u = 0; u < v->n_uses; u++)
                if (--indeg[v->uses[u].node->index] == 0)
                    heap_push(heap, &hn, v->uses[u].node->index);
        }
    }
    ortc_status st = ORTC_STATUS_OK;
    if (done < n) {
        char list[1024] = "";
        int shown = 0;
        for (int i = 0; i < n && shown < 6; i++)
            if (indeg[i]) {
                ortc_strbuf_append(list, sizeof list, "%s%s", shown ? ", " : "",
                                   node_label(la, sizeof la, g->nodes[i]));
                shown++;
            }
        snprintf(err, errlen, "graph '%s' has a cycle: %d nodes can never run, among them %s",
                 g->name, n - done, list);
        st = ORTC_STATUS_INVALID_MODEL;
    } else {
        for (int i = 0; i < n; i++) {
            g->nodes[i] = order[i];
            order[i]->index = i;
        }
    }
    free(indeg);
    free(heap);
    free(order);
    return st;
}

/* ---- attributes ------------------------------------------------------------ */

const ortc_attr *ortc_node_attr(const ortc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

bool ortc_node_is_onnx(const ortc_node *n, const char *op_type)
{
    return n && (!n->domain || !n->domain[0]) && !strcmp(n->op_type, op_type);
}

int64_t ortc_node_attr_int(const ortc_node *n, const char *name, int64_t def)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    return a && a->type == ORTC_ATTR_INT ? a->i : def;
}

float ortc_node_attr_float(const ortc_node *n, const char *name, float def)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    return a && a->type == ORTC_ATTR_FLOAT ? a->f : def;
}

const char *ortc_node_attr_string(const ortc_node *n, const char *name, const char *def)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    return a && a->type == ORTC_ATTR_STRING ? a->s : def;
}

const int64_t *ortc_node_attr_ints(const ortc_node *n, const char *name, size_t *count)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    if (a && a->type == ORTC_ATTR_INTS) {
        *count = a->n;
        return a->ints;
    }
    *count = 0;
    return NULL;
}

const float *ortc_node_attr_floats(const ortc_node *n, const char *name, size_t *count)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    if (a && a->type == ORTC_ATTR_FLOATS) {
        *count = a->n;
        return a->floats;
    }
    *count = 0;
    return NULL;
}

const char *ortc_attr_type_name(ortc_attr_type t)
{
    static const char *names[] = {"undefined", "float",   "int",     "string",  "tensor",
                                  "graph",     "floats",  "ints",    "strings", "tensors",
                                  "graphs",    "unknown", "unknown", "type"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "unknown";
}

const char *ortc_post_op_name(ortc_post_op_kind kind)
{
    static const char *names[ORTC_POST_OP_KINDS] = {
        [ORTC_POST_OP_RELU] = "relu",
        [ORTC_POST_OP_LEAKY_RELU] = "leaky_relu",
        [ORTC_POST_OP_CLIP] = "clip",
        [ORTC_POST_OP_SIGMOID] = "sigmoid",
        [ORTC_POST_OP_TANH] = "tanh",
        [ORTC_POST_OP_ELU] = "elu",
        [ORTC_POST_OP_HARD_SIGMOID] = "hard_sigmoid",
        [ORTC_POST_OP_SUM] = "sum",
        [ORTC_POST_OP_HARD_SWISH] = "hard_swish",
        [ORTC_POST_OP_SWISH] = "swish",
        [ORTC_POST_OP_GELU_ERF] = "gelu_erf",
        [ORTC_POST_OP_BIAS] = "bias",
    };
    return (unsigned)kind < ORTC_POST_OP_KINDS ? names[kind] : NULL;
}

const char *ortc_post_op_str(char *buf, size_t len, const ortc_post_op *po)
{
    const char *name = ortc_post_op_name(po->kind);
    buf[0] = '\0';
    if (!name) {
        ortc_strbuf_append(buf, len, "unknown(%d)", (int)po->kind);
        return buf;
    }
    ortc_strbuf_append(buf, len, "%s", name);
    switch (po->kind) {
    case ORTC_POST_OP_LEAKY_RELU:
    case ORTC_POST_OP_ELU: ortc_strbuf_append(buf, len, "(%g)", (double)po->alpha); break;
    case ORTC_POST_OP_CLIP:
    case ORTC_POST_OP_HARD_SIGMOID:
        ortc_strbuf_append(buf, len, "(%g, %g)", (double)po->alpha, (double)po->beta);
        break;
    default: break;
    }
    return buf;
}

const char *ortc_shape_str(char *buf, size_t len, int rank, const int64_t *dims)
{
    buf[0] = '\0';
    if (rank < 0) { /* a value of data-dependent rank */
        ortc_strbuf_append(buf, len, "?");
        return buf;
    }
    ortc_strbuf_append(buf, len, "[");
    for (int i = 0; i < rank; i++)
        ortc_strbuf_append(buf, len, "%s%lld", i ? "," : "", (long long)dims[i]);
    ortc_strbuf_append(buf, len, "]");
    return buf;
}

const char *ortc_value_shape_str(char *buf, size_t len, const ortc_value *v)
{
    buf[0] = '\0';
    if (v->rank < 0) {
        ortc_strbuf_append(buf, len, "?");
        return buf;
    }
    ortc_strbuf_append(buf, len, "[");
    for (int i = 0; i < v->rank; i++) {
        if (v->dims[i].value >= 0)
            ortc_strbuf_append(buf, len, "%s%lld", i ? "," : "", (long long)v->dims[i].value);
        else
            ortc_strbuf_append(buf, len, "%s%s", i ? "," : "",
                               v->dims[i].param ? v->dims[i].param : "?");
    }
    ortc_strbuf_append(buf, len, "]");
    return buf;
}
