/* dnnl_util.h — oneDNN glue shared by operator families: the backend
 * struct, a checked-call macro, descriptor helpers. The oneDNN 2.x
 * specifics live here so a move to 3.x touches few files. Private to
 * operators/.
 */
#ifndef ORTC_DNNL_UTIL_H
#define ORTC_DNNL_UTIL_H

#include <oneapi/dnnl/dnnl.h>

#include "backend.h"
#include "operator.h"

struct ortc_backend {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;
};

#endif
