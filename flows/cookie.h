/*
 * Flow cookies: round(16) | category(8) | reserved(8) | object id(32).
 *
 * The round identifies one run of the agent: it is kept in br-int's
 * external_ids:tendril-round and increased at every start, so flows left
 * by an earlier run can be deleted by cookie mask once the new run has
 * installed everything it knows.  The category and object id say which
 * kind of object a flow belongs to, for inspection.
 */
#ifndef TENDRIL_FLOWS_COOKIE_H
#define TENDRIL_FLOWS_COOKIE_H 1

#include <stdint.h>

enum cookie_category {
    COOKIE_STATIC = 1,          /* The pipeline's own flows. */
    COOKIE_POD = 2,
    COOKIE_NODE = 3,
    COOKIE_SERVICE = 4,
    COOKIE_POLICY = 5,
    COOKIE_OTHER = 6,
    COOKIE_AFFINITY = 7,        /* Flows the switch learned (Service
                                 * session affinity): round 0, so that no
                                 * round's deletion removes them. */
};

#define COOKIE_ROUND_SHIFT 48
#define COOKIE_CATEGORY_SHIFT 40
#define COOKIE_ROUND_MASK (UINT64_C(0xffff) << COOKIE_ROUND_SHIFT)

static inline uint64_t
cookie_make(uint16_t round, enum cookie_category category, uint32_t object)
{
    return ((uint64_t) round << COOKIE_ROUND_SHIFT
            | (uint64_t) (category & 0xff) << COOKIE_CATEGORY_SHIFT
            | object);
}

static inline uint16_t
cookie_round(uint64_t cookie)
{
    return cookie >> COOKIE_ROUND_SHIFT;
}

static inline enum cookie_category
cookie_category(uint64_t cookie)
{
    return (cookie >> COOKIE_CATEGORY_SHIFT) & 0xff;
}

static inline uint32_t
cookie_object(uint64_t cookie)
{
    return cookie;
}

/* Replaces the round of 'cookie'. */
static inline uint64_t
cookie_with_round(uint64_t cookie, uint16_t round)
{
    return (cookie & ~COOKIE_ROUND_MASK)
           | (uint64_t) round << COOKIE_ROUND_SHIFT;
}

/* The round after 'round': rounds go 1..65535 and wrap, never 0, so that a
 * cookie of 0 (flows added by hand) is never taken for one of ours. */
static inline uint16_t
cookie_next_round(uint16_t round)
{
    return round == UINT16_MAX ? 1 : round + 1;
}

#endif /* flows/cookie.h */
