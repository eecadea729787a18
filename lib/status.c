/* SPDX-License-Identifier: MIT */
#include "seg-private.h"

SEG_API const char *seg_status_str(int32_t status)
{
    switch (status) {
    case SEG_OK: return "success";
    case SEG_ERROR: return "error";
    case SEG_EINVAL: return "invalid argument";
    case SEG_ENOMEM: return "out of memory";
    case SEG_ERANGE: return "value out of range";
    case SEG_ENOTFOUND: return "not found";
    case SEG_EEXISTS: return "already exists";
    case SEG_EBUFSZ: return "buffer too small";
    case SEG_ESTATE: return "invalid state for this call";
    case SEG_EVERSION: return "unsupported version or struct size";
    case SEG_EDATA: return "invalid value in input data";
    case SEG_EPARSE: return "parse error";
    case SEG_ECANCELED: return "canceled";
    default: return "unknown error";
    }
}
