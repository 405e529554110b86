/* suggest.h - "did you mean": how close a mistyped word is to a known one.
 *
 * One closeness rule for every message that suggests a word (config
 * sections, keys and values, compare spec sections and keys): the optimal
 * string alignment distance (insert, delete, substitute, swap two
 * neighbours) of at most 2 and shorter than the candidate, or else one word
 * a prefix of the other (both at least 2 characters). */
#ifndef EQUIGRID_CORE_SUGGEST_H
#define EQUIGRID_CORE_SUGGEST_H

enum {
    SUGGEST_MAX_LEN = 63, /* longer strings are never close */
    SUGGEST_FAR = 99      /* suggest_distance's answer for longer strings */
};

/* Optimal string alignment distance of a and b, or SUGGEST_FAR when either
 * is longer than SUGGEST_MAX_LEN characters. */
int suggest_distance(const char *a, const char *b);

/* 0..2 = the distance, 3 = one is a prefix of the other, -1 = not close
 * (see the file header). Smaller is closer. */
int suggest_closeness(const char *typed, const char *cand);

/* The index of the closest of cands[0..n) to typed (ties to the lowest
 * index), or -1 when none is close. */
int suggest_nearest(const char *typed, const char *const *cands, int n);

#endif
