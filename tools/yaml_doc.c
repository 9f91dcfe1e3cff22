/* yaml_doc.c — loading a YAML document and file:line messages for the
 * tools' YAML readers (see yaml_doc.h). Knows no format's keys.
 */
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

int ortc_yaml_doc_open(ortc_yaml_doc *d, const char *text, size_t len, const char *file, char *err,
                       size_t errlen)
{
    d->file = file;
    d->err = err;
    d->errlen = errlen;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        ortc_tools_err(err, errlen, "%s: out of memory", file ? file : "YAML");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    if (!yaml_parser_load(&parser, &d->doc)) {
        unsigned long line = (unsigned long)parser.problem_mark.line + 1;
        const char *problem = parser.problem ? parser.problem : "syntax error";
        if (file)
            ortc_tools_err(err, errlen, "%s:%lu: YAML error: %s", file, line, problem);
        else
            ortc_tools_err(err, errlen, "line %lu: YAML error: %s", line, problem);
        rc = -1;
    }
    yaml_parser_delete(&parser);
    return rc;
}

void ortc_yaml_doc_close(ortc_yaml_doc *d)
{
    yaml_document_delete(&d->doc);
}

int ortc_yaml_doc_fail(ortc_yaml_doc *d, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 1;
    if (d->file)
        ortc_tools_err(d->err, d->errlen, "%s:%lu: %s", d->file, line, msg);
    else
        ortc_tools_err(d->err, d->errlen, "line %lu: %s", line, msg);
    return -1;
}

const char *ortc_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}
