/* npy.h — NumPy .npy files (format versions 1.0, 2.0, 3.0): read into and
 * write from ortc tensors. Little-endian, C order only; Fortran order,
 * big-endian data and object arrays are refused with a message.
 */
#ifndef ORTC_TOOLS_NPY_H
#define ORTC_TOOLS_NPY_H

#include <stddef.h>

#include "ortc/ortc.h"

/* Parses an in-memory .npy. On success t->data is malloc'd (caller frees it
 * with free()) and 0 is returned; on failure -1 and err holds one line
 * naming the problem (e.g. "header: missing 'shape'"). Supported dtypes:
 * <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 <u2 <u4 <u8 |b1 <c8 <c16 (and '=' /
 * no-endian forms). The data length must match the shape exactly; bool
 * bytes are normalized to 0/1; an empty tensor still gets a non-NULL data. */
int ortc_npy_parse(const void *data, size_t size, ortc_tensor *t, char *err, size_t errlen);
/* Reads a file; messages start with the path. */
int ortc_npy_read(const char *path, ortc_tensor *t, char *err, size_t errlen);
/* Writes t (any numeric dtype or bool) as a version 1.0 .npy file. */
int ortc_npy_write(const char *path, const ortc_tensor *t, char *err, size_t errlen);

#endif
