/* SPDX-License-Identifier: MIT */
/**
 * @file tags.h
 * @brief The tag registry: one vocabulary of customer tags for a company.
 */
#ifndef SEGMENT_TAGS_H
#define SEGMENT_TAGS_H

#include <segment/common.h>

SEG_BEGIN_DECLS

/**
 * @defgroup tags Tag registry
 * @brief Canonical tags (客户标签) with aliases, categories and exclusive groups.
 *
 * A registry is the list of tags a company agrees on. Each tag has a
 * stable integer id (1 or more, never reused after removal), a canonical
 * name, any number of aliases, a category path (`行为/交易/首单`, 1 to
 * #SEG_TAG_CATEGORY_DEPTH levels), a kind (#SEG_TAG_FACT, #SEG_TAG_RULE,
 * #SEG_TAG_MODEL), a source (#SEG_TAG_MANUAL 主动 / #SEG_TAG_DERIVED 被动),
 * a status (#SEG_TAG_DRAFT, #SEG_TAG_ONLINE, #SEG_TAG_OFFLINE,
 * #SEG_TAG_DISABLED), a description of its business definition (口径), an
 * owner, an optional exclusive group, and for rule tags a rule.
 *
 * **Names.** Names and aliases are compared after normalisation
 * (seg_tag_normalize()): full-width ASCII (U+FF01..U+FF5E) becomes ASCII,
 * the ideographic space U+3000 and no-break space U+00A0 become spaces,
 * ASCII letters are lower-cased, leading and trailing spaces and tabs are
 * removed and inner runs of them become one space. So "ＶＩＰ", " vip " and
 * "Vip" are one name; "客户首单" and "客户已下单" are two, and one becomes an
 * alias of the other. Other characters are compared byte for byte (no
 * Unicode case folding or NFC). A name is valid UTF-8 without control
 * characters (C0 other than tab, DEL, C1), at most #SEG_TAG_NAME_MAX bytes, not empty after
 * normalisation. Canonical names and aliases share one namespace: a name
 * or alias that normalises like another tag's name or alias is refused
 * with #SEG_EEXISTS and a message naming both.
 *
 * **Exclusive groups.** Tags with the same group name (compared like tag
 * names) cannot hold together for one customer: setting one in a tag set
 * clears the others of the group for that customer (lifecycle stages,
 * say). A tag belongs to at most one group.
 *
 * **Rule tags.** A rule tag's rule is a condition in the rule language
 * (rule.h) over frame columns and other tags: a name in the rule that is a
 * registered tag name or alias stands for "the customer has that tag"
 * (1 or 0), any other name is a frame column. Tag references are checked
 * when the registry is frozen (no cycles); the rule is compiled against a
 * frame by seg_tagset_eval_rules(). A tag used by a rule tag cannot be
 * removed.
 *
 * **Text.** seg_tagreg_save() writes, and seg_tagreg_load() reads, a
 * line-based text meant for version control (doc/tags.md has the grammar):
 *
 *     libsegment-tags 1
 *     next_id 4
 *     tag 1 "首购客户"
 *       alias "客户首单" "客户已下单" "first purchase"
 *       category "生命周期/首购"
 *       group lifecycle
 *       owner "crm"
 *       desc "首次下单且未复购的客户"
 *     tag 2 "复购客户"
 *       category "生命周期/复购"
 *       group lifecycle
 *     tag 3 "高频"
 *       category "行为/交易"
 *       when txn_90d >= 10
 *
 * **Life cycle and threads.** A registry is built (seg_tagreg_new(),
 * seg_tagreg_add() and the setters) or loaded, then frozen with
 * seg_tagreg_freeze() (seg_tagreg_load() returns it frozen). Building is
 * single-threaded and reports detail through seg_tagreg_last_error(). A
 * frozen registry is immutable: every setter returns #SEG_ESTATE, and every
 * `const seg_tagreg *` function may run from any number of threads at once.
 * Tag sets and queries hold a reference to the registry they use, so
 * seg_tagreg_free() may come before theirs.
 * @{
 */

/** @brief Opaque tag registry. */
typedef struct seg_tagreg seg_tagreg;

/** @brief Longest tag name, alias or group name, in bytes. */
#define SEG_TAG_NAME_MAX 255
/** @brief Most levels in a category path. */
#define SEG_TAG_CATEGORY_DEPTH 5
/** @brief Longest category, owner, or rule text, in bytes. */
#define SEG_TAG_TEXT_MAX 4096
/** @brief Longest description, in bytes. */
#define SEG_TAG_DESC_MAX 65536
/** @brief Largest tag id. */
#define SEG_TAG_ID_MAX 2147483647

/** @name Integer attributes (seg_tagreg_set_code(), seg_tagreg_code())
 * @{ */
#define SEG_TAG_KIND 1   /**< How the tag is produced: #SEG_TAG_FACT, #SEG_TAG_RULE, #SEG_TAG_MODEL. */
#define SEG_TAG_SOURCE 2 /**< #SEG_TAG_MANUAL or #SEG_TAG_DERIVED. */
#define SEG_TAG_STATUS 3 /**< #SEG_TAG_DRAFT .. #SEG_TAG_DISABLED. */
/** @} */

/** @name Kinds
 * @{ */
#define SEG_TAG_FACT 0  /**< Recorded fact, set by the caller (the default). */
#define SEG_TAG_RULE 1  /**< Computed by its rule; a tag has a rule exactly when it is of this kind. */
#define SEG_TAG_MODEL 2 /**< Output of a model (RFM segment, tier, cluster), set with seg_tagset_set_labels(). */
/** @} */

/** @name Sources
 * @{ */
#define SEG_TAG_MANUAL 0  /**< 主动: entered by people (the default for facts). */
#define SEG_TAG_DERIVED 1 /**< 被动: computed (the default for rule and model tags). */
/** @} */

/** @name Statuses
 * @{ */
#define SEG_TAG_DRAFT 0    /**< Being defined. */
#define SEG_TAG_ONLINE 1   /**< In use (the default). */
#define SEG_TAG_OFFLINE 2  /**< Retired from new campaigns; still queryable. */
#define SEG_TAG_DISABLED 3 /**< Must not be used: queries naming it fail, its rule is not evaluated. */
/** @} */

/** @name Text attributes (seg_tagreg_set_text(), seg_tagreg_text())
 * @{ */
#define SEG_TAG_CATEGORY 1    /**< Category path, levels separated by '/'. */
#define SEG_TAG_DESCRIPTION 2 /**< Business definition (口径). */
#define SEG_TAG_OWNER 3       /**< Owner (team or person). */
#define SEG_TAG_GROUP 4       /**< Exclusive group name. */
#define SEG_TAG_RULE_TEXT 5   /**< Rule (rule tags only). */
/** @} */

/**
 * @brief Creates an empty registry to build.
 * @param[out] out Receives the registry; untouched on failure.
 * @param alloc    Memory hooks, or NULL.
 * @retval SEG_OK       Created; free with seg_tagreg_free().
 * @retval SEG_EINVAL   NULL `out`.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_tagreg_new(seg_tagreg **out, const seg_allocator *alloc);

/**
 * @brief Loads a registry from its text; the result is frozen.
 * @param[out] out     Receives the registry; untouched on failure.
 * @param text         The text (UTF-8; need not be NUL-terminated).
 * @param len          Its length in bytes.
 * @param source       Name for messages (e.g. "tags.txt"), or NULL for "tags".
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "source:line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Loaded; free with seg_tagreg_free().
 * @retval SEG_EINVAL   NULL `out` or `text`.
 * @retval SEG_EPARSE   Malformed line, bad value, duplicate name or id, rule cycle.
 * @retval SEG_EVERSION Unknown format version or allocator size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_tagreg_load(seg_tagreg **out, const char *text, size_t len,
                                const char *source, const seg_allocator *alloc, char *err_buf,
                                size_t err_cap);

/**
 * @brief Writes the registry as text that seg_tagreg_load() reads back to
 * an equal registry (same ids, names, aliases in order, attributes, next id).
 * Tags are written in id order with every attribute that is not its default.
 * @param reg          A registry (frozen or not).
 * @param[out] buf     Receives the NUL-terminated text, or NULL to ask the size.
 * @param cap          Capacity of `buf`.
 * @param[out] out_len Receives the length excluding the NUL.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `reg` or `out_len`.
 * @retval SEG_EBUFSZ `cap` too small (`*out_len` tells the need; `buf` untouched).
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_save(const seg_tagreg *reg, char *buf, size_t cap, size_t *out_len);

/**
 * @brief Releases the caller's reference. NULL is a no-op.
 * Tag sets and queries built on the registry keep it alive until they are freed.
 * @param reg A registry, or NULL.
 */
SEG_API void seg_tagreg_free(seg_tagreg *reg);

/**
 * @brief Message describing the last failed call that changed the registry.
 * @param reg A registry, or NULL.
 * @return "" after a success; never NULL. @borrowed valid until the next
 *         non-const call on this registry.
 */
SEG_API const char *seg_tagreg_last_error(const seg_tagreg *reg);

/**
 * @brief Adds a tag of kind #SEG_TAG_FACT, source manual, status online.
 * @param reg        A registry being built.
 * @param id         Its id, or 0 for the next free id (one more than any id
 *                   the registry has ever held).
 * @param name       Canonical name.
 * @param[out] out_id Receives the id; or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  NULL `reg` or `name`; invalid name.
 * @retval SEG_ERANGE  `id` negative, or no id left.
 * @retval SEG_EEXISTS The id, or the name as a name or alias, is taken (the message names the holder).
 * @retval SEG_ESTATE  The registry is frozen.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_tagreg_add(seg_tagreg *reg, int32_t id, const char *name, int32_t *out_id);

/**
 * @brief Adds an alias to a tag.
 * @param reg   A registry being built.
 * @param id    The tag.
 * @param alias Alternative name; resolving it gives the tag.
 * @retval SEG_OK        Added (an alias equal to the tag's own name or
 *                       aliases after normalisation is refused too).
 * @retval SEG_EINVAL    NULL argument, invalid alias.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @retval SEG_EEXISTS   The alias normalises like a name or alias in use.
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory.
 */
SEG_API int32_t seg_tagreg_add_alias(seg_tagreg *reg, int32_t id, const char *alias);

/**
 * @brief Renames a tag; the old name becomes its first alias.
 * Rules naming the tag by its old name keep resolving to it.
 * @param reg      A registry being built.
 * @param id       The tag.
 * @param new_name New canonical name; it may be one of the tag's own aliases
 *                 (which then stops being an alias).
 * @retval SEG_OK        Renamed.
 * @retval SEG_EINVAL    NULL argument, invalid name.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @retval SEG_EEXISTS   The name belongs to another tag.
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory.
 */
SEG_API int32_t seg_tagreg_rename(seg_tagreg *reg, int32_t id, const char *new_name);

/**
 * @brief Removes a tag. Its id is not reused.
 * @param reg A registry being built.
 * @param id  The tag.
 * @retval SEG_OK        Removed.
 * @retval SEG_EINVAL    NULL `reg`.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @retval SEG_ESTATE    Frozen, or another tag's rule names this tag (the message names that tag).
 * @retval SEG_ENOMEM    Out of memory while scanning the other tags' rules; the
 *                       registry is unchanged.
 */
SEG_API int32_t seg_tagreg_remove(seg_tagreg *reg, int32_t id);

/**
 * @brief Sets a text attribute.
 * Setting #SEG_TAG_RULE_TEXT makes the tag a rule tag (kind #SEG_TAG_RULE,
 * and source derived if it was manual); setting it to NULL or "" makes the
 * tag a fact again. The rule's syntax and tag references are checked by
 * seg_tagreg_freeze(); its columns when evaluated. A category is 1 to
 * #SEG_TAG_CATEGORY_DEPTH non-empty levels separated by '/' (spaces around
 * levels are removed). NULL or "" clears any attribute.
 * @param reg   A registry being built.
 * @param id    The tag.
 * @param field #SEG_TAG_CATEGORY, #SEG_TAG_DESCRIPTION, #SEG_TAG_OWNER,
 *              #SEG_TAG_GROUP or #SEG_TAG_RULE_TEXT.
 * @param value UTF-8 text on one line (no control characters), or NULL.
 * @retval SEG_OK        Set.
 * @retval SEG_EINVAL    NULL `reg`, unknown field, invalid text or category.
 * @retval SEG_ERANGE    Text longer than its limit.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory.
 */
SEG_API int32_t seg_tagreg_set_text(seg_tagreg *reg, int32_t id, int32_t field, const char *value);

/**
 * @brief Sets an integer attribute.
 * A tag's kind is #SEG_TAG_RULE exactly when it has a rule: set the rule
 * text instead of the kind #SEG_TAG_RULE, and clear the rule before making
 * a rule tag a fact or model.
 * @param reg   A registry being built.
 * @param id    The tag.
 * @param field #SEG_TAG_KIND, #SEG_TAG_SOURCE or #SEG_TAG_STATUS.
 * @param value A value of that field.
 * @retval SEG_OK        Set.
 * @retval SEG_EINVAL    NULL `reg`, unknown field or value.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @retval SEG_ESTATE    Frozen, or a kind change that contradicts the rule text.
 */
SEG_API int32_t seg_tagreg_set_code(seg_tagreg *reg, int32_t id, int32_t field, int32_t value);

/**
 * @brief Checks the registry and makes it immutable and shareable.
 * Checks that every rule parses and that the tags rules name form no cycle.
 * Freezing a frozen registry does nothing.
 * @param reg A registry.
 * @retval SEG_OK     Frozen.
 * @retval SEG_EINVAL NULL `reg`.
 * @retval SEG_EPARSE A rule does not parse, or rules name each other in a
 *                    cycle (seg_tagreg_last_error() names the tags).
 * @retval SEG_ENOMEM Out of memory.
 */
SEG_API int32_t seg_tagreg_freeze(seg_tagreg *reg);

/**
 * @brief Whether the registry is frozen.
 * @param reg A registry, or NULL (gives 0).
 * @return 1 or 0.
 * @threadsafe
 */
SEG_API int32_t seg_tagreg_is_frozen(const seg_tagreg *reg);

/**
 * @brief Number of tags.
 * @param reg A registry, or NULL (gives 0).
 * @return The count.
 * @threadsafe when frozen.
 */
SEG_API size_t seg_tagreg_count(const seg_tagreg *reg);

/**
 * @brief The id of the `index`-th tag in ascending id order, for iteration.
 * @param reg   A registry.
 * @param index 0..count-1.
 * @return The id, or 0 for a bad index or NULL `reg`.
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_id_at(const seg_tagreg *reg, size_t index);

/**
 * @brief Resolves a name or alias (normalised) to a tag id.
 * @param reg      A registry.
 * @param name     Name or alias.
 * @param[out] out_id Receives the id.
 * @retval SEG_OK        Found.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ENOTFOUND No such name (seg_tagreg_suggest() finds close ones).
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_find(const seg_tagreg *reg, const char *name, int32_t *out_id);

/**
 * @brief Registered tags whose name or an alias is close to `name`, best first.
 * Closeness is the edit distance between normalised names counted in code
 * points; a registered name containing `name` (or contained in it) counts as
 * distance 1, an equal one as 0. Disabled tags are suggested too (a caller
 * may filter them by status). Names within max(2, (length + 1) / 2) code points are
 * returned, ordered by distance then id, each tag once.
 * @param reg          A registry.
 * @param name         The unknown name.
 * @param[out] out_ids Receives up to `cap` ids; or NULL with `cap` 0.
 * @param cap          Capacity of `out_ids`.
 * @param[out] out_n   Receives how many were written.
 * @retval SEG_OK     Done (possibly 0 ids).
 * @retval SEG_EINVAL NULL `reg`, `name` or `out_n`, or NULL `out_ids` with `cap` > 0.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_suggest(const seg_tagreg *reg, const char *name, int32_t *out_ids,
                                   size_t cap, size_t *out_n);

/**
 * @brief Tags whose category starts with the levels of `prefix`, in id order.
 * Matching is by whole levels, after normalising each level like a name:
 * "行为/交易" matches "行为/交易/首单" and "行为/交易" but not "行为/交易额".
 * An empty prefix matches every tag, a tag without category matches only that.
 * @param reg          A registry.
 * @param prefix       Category prefix.
 * @param[out] out_ids Receives up to `cap` ids; or NULL with `cap` 0 to count.
 * @param cap          Capacity of `out_ids`.
 * @param[out] out_n   Receives the number of matching tags (may exceed `cap`;
 *                     only the first `cap` are written).
 * @retval SEG_OK     Listed.
 * @retval SEG_EINVAL NULL `reg`, `prefix` or `out_n`, or NULL `out_ids` with `cap` > 0.
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_list(const seg_tagreg *reg, const char *prefix, int32_t *out_ids,
                                size_t cap, size_t *out_n);

/**
 * @brief Canonical name of a tag.
 * @param reg A registry.
 * @param id  The tag.
 * @return The name, or NULL for an unknown id. @borrowed valid until the
 *         tag changes or the registry is freed.
 * @threadsafe when frozen.
 */
SEG_API const char *seg_tagreg_name(const seg_tagreg *reg, int32_t id);

/**
 * @brief Number of aliases of a tag.
 * @param reg A registry.
 * @param id  The tag.
 * @return The count (0 for an unknown id).
 * @threadsafe when frozen.
 */
SEG_API size_t seg_tagreg_alias_count(const seg_tagreg *reg, int32_t id);

/**
 * @brief The `index`-th alias of a tag, in the order they were added.
 * @param reg   A registry.
 * @param id    The tag.
 * @param index 0..alias_count-1.
 * @return The alias as written, or NULL. @borrowed as seg_tagreg_name().
 * @threadsafe when frozen.
 */
SEG_API const char *seg_tagreg_alias(const seg_tagreg *reg, int32_t id, size_t index);

/**
 * @brief A text attribute of a tag.
 * @param reg   A registry.
 * @param id    The tag.
 * @param field As for seg_tagreg_set_text().
 * @return The text ("" when unset), or NULL for an unknown id or field.
 *         @borrowed as seg_tagreg_name().
 * @threadsafe when frozen.
 */
SEG_API const char *seg_tagreg_text(const seg_tagreg *reg, int32_t id, int32_t field);

/**
 * @brief An integer attribute of a tag.
 * @param reg       A registry.
 * @param id        The tag.
 * @param field     #SEG_TAG_KIND, #SEG_TAG_SOURCE or #SEG_TAG_STATUS.
 * @param[out] out  Receives the value.
 * @retval SEG_OK        Read.
 * @retval SEG_EINVAL    NULL argument or unknown field.
 * @retval SEG_ENOTFOUND No tag with that id.
 * @threadsafe when frozen.
 */
SEG_API int32_t seg_tagreg_code(const seg_tagreg *reg, int32_t id, int32_t field, int32_t *out);

/**
 * @brief Normalises a name the way the registry compares names.
 * @param name         A name (UTF-8, NUL-terminated).
 * @param[out] buf     Receives the NUL-terminated key, or NULL to ask the size.
 * @param cap          Capacity of `buf`.
 * @param[out] out_len Receives the key's length excluding the NUL.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `name` or `out_len`; invalid UTF-8, a control
 *                    character, too long, or empty after normalisation.
 * @retval SEG_EBUFSZ `cap` too small (`buf` untouched).
 * @threadsafe
 */
SEG_API int32_t seg_tag_normalize(const char *name, char *buf, size_t cap, size_t *out_len);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_TAGS_H */
