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
    /* Field by field: the packed number would mis-order a minor or patch
     * of 100 or more. */
    if (SEG_VERSION_MAJOR != major)
        return SEG_VERSION_MAJOR > major;
    if (SEG_VERSION_MINOR != minor)
        return SEG_VERSION_MINOR > minor;
    return SEG_VERSION_PATCH >= patch;
}
