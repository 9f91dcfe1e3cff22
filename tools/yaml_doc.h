/* yaml_doc.h — what the tools' YAML readers (model cards, conformance
 * manifests) share: loading a document from text and file:line messages
 * about its nodes. The keys and rules of each format stay in its parser.
 */
#ifndef ORTC_TOOLS_YAML_DOC_H
#define ORTC_TOOLS_YAML_DOC_H

#include <stddef.h>

#include <yaml.h>

typedef struct ortc_yaml_doc {
    yaml_document_t doc;
    const char *file; /* for messages; NULL: "line N: ..." */
    char *err;        /* the caller's message buffer */
    size_t errlen;
} ortc_yaml_doc;

/* Parses text[0..len) into d->doc. 0, or -1 with "FILE:LINE: YAML error:
 * ..." in err (d is then not to be closed). */
int ortc_yaml_doc_open(ortc_yaml_doc *d, const char *text, size_t len, const char *file, char *err,
                       size_t errlen);
void ortc_yaml_doc_close(ortc_yaml_doc *d);

/* Writes "FILE:LINE: message" (the line of node n; 1 when n is NULL) to
 * d->err; returns -1. */
int ortc_yaml_doc_fail(ortc_yaml_doc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* n's text when it is a scalar, else NULL. */
const char *ortc_yaml_scalar(const yaml_node_t *n);

#endif
