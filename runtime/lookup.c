/* lookup.c — small public lookups for language bindings and callers that
 * address values by name: input/output positions by name, the model's
 * metadata_props, the library version. Reads the model only; never compiles.
 */
#include <string.h>

#include "session_impl.h"

const char *ortc_version(void)
{
    return ORTC_VERSION_STRING;
}

ortc_status ortc_model_metadata(const ortc_model *m, size_t i, const char **key, const char **value)
{
    if (!m || i >= (size_t)m->n_meta)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "metadata index %zu out of range (the model has %d entries)", i,
                            m ? m->n_meta : 0);
    if (key)
        *key = m->meta_keys[i];
    if (value)
        *value = m->meta_values[i];
    return ORTC_STATUS_OK;
}

/* Finds `name` among the values; else INVALID_ARGUMENT naming them all. */
static ortc_status find_value(const ortc_session *s, const char *name, size_t *index, bool input)
{
    const char *what = input ? "input" : "output";
    if (!s || !name || !index)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "ortc_session_%s_index: NULL argument", what);
    const ortc_graph *g = s->model->graph;
    ortc_value *const *vals = input ? g->inputs : g->outputs;
    int n = input ? g->n_inputs : g->n_outputs;
    for (int i = 0; i < n; i++)
        if (!strcmp(vals[i]->name, name)) {
            *index = (size_t)i;
            return ORTC_STATUS_OK;
        }
    char list[1024] = "";
    for (int i = 0; i < n; i++)
        ortc_strbuf_append(list, sizeof list, "%s'%s'", i ? ", " : "", vals[i]->name);
    const char *path = s->model->path;
    return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                        "%s%sthe model has no %s named '%s' (its %ss: %s)", path,
                        path[0] ? ": " : "", what, name, what, n ? list : "none");
}

ortc_status ortc_session_input_index(const ortc_session *s, const char *name, size_t *index)
{
    return find_value(s, name, index, true);
}

ortc_status ortc_session_output_index(const ortc_session *s, const char *name, size_t *index)
{
    return find_value(s, name, index, false);
}
