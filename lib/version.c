/* SPDX-License-Identifier: MIT */
#include "seg-private.h"
#include "segment/version.h"

SEG_API uint32_t seg_version_number(void)
{
    return SEG_VERSION_NUMBER;
}

SEG_API const char *seg_version_string(void)
{
    return SEG_VERSION_STRING;
}

SEG_API int32_t seg_version_at_least(int32_t major, int32_t minor, int32_t patch)
{
    int64_t want = (int64_t)major * 10000 + (int64_t)minor * 100 + patch;
    return (int64_t)SEG_VERSION_NUMBER >= want;
}
