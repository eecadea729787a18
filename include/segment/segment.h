/* SPDX-License-Identifier: MIT */
/**
 * @file segment.h
 * @brief Umbrella header: includes every public libsegment header.
 *
 * Consumers write `#include <segment/segment.h>` and link with
 * `pkg-config --cflags --libs libsegment`.
 */
#ifndef SEGMENT_SEGMENT_H
#define SEGMENT_SEGMENT_H

#include <segment/common.h>
#include <segment/version.h>
#include <segment/frame.h>
#include <segment/rfm.h>
#include <segment/rfm_scheme.h>
#include <segment/rule.h>
#include <segment/tiers.h>
#include <segment/tags.h>
#include <segment/tagset.h>
#include <segment/query.h>
#include <segment/profile.h>
#include <segment/kmeans.h>
#include <segment/experiment.h>

#endif /* SEGMENT_SEGMENT_H */
