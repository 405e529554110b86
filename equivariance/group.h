/* group.h - the dihedral group D4 of the square grid and its subgroups, acting
 * on cells, float observation planes, compact byte states and actions.
 *
 * Element g = (k, f) has index i = 4*f + k (0 = identity): first mirror
 * left-right if f (c -> N-1-c), then rotate k quarter turns counter-clockwise
 * as displayed ((r, c) -> (N-1-c, r) per turn, numpy.rot90). On actions, rho(g)
 * permutes UP=0 RIGHT=1 DOWN=2 LEFT=3 (a quarter turn: UP->LEFT, LEFT->DOWN,
 * DOWN->RIGHT, RIGHT->UP; the mirror swaps LEFT and RIGHT); STAY=4 is fixed.
 * See docs/design.md. Everything here is pure and cannot fail unless a
 * return value says otherwise. */
#ifndef EQUIGRID_GROUP_H
#define EQUIGRID_GROUP_H

#include <stddef.h>
#include <stdint.h>

enum { D4_ORDER = 8 };

/* A subgroup of D4: its elements' indices in increasing order, elem[0] == 0. */
typedef struct {
    int n;             /* order |G|, 1..8 */
    int elem[D4_ORDER]; /* indices 0..7, sorted, distinct */
} Group;

/* Index of the composition "apply h, then g". */
int d4_compose(int g, int h);
/* Index of the inverse of g. */
int d4_inverse(int g);
/* Where element g sends cell (r, c) of an n x n grid. */
void d4_cell(int g, int n, int r, int c, int *r_out, int *c_out);
/* rho(g)(a) for an action a in 0..4 (4 = STAY is fixed). */
int d4_action(int g, int a);
/* Short name of an element: "id", "r90", "r180", "r270", "m", "m.r90", ... */
const char *d4_name(int g);

/* Parses a group: "trivial", "flip", "rot180", "rot90", "d4", or a comma list
 * of element indices ("0,2"). Returns 0 on success; -1 with a message in err
 * (what was wrong, what is allowed) for unknown names, bad or duplicate indices,
 * a list without 0, or a set not closed under composition. */
int group_parse(Group *g, const char *spec, char *err, size_t errlen);
/* Writes the canonical spelling of g (its name if it is a named group, else
 * the index list) into buf. */
void group_format(const Group *g, char *buf, size_t buflen);

/* out = g . in for C planes of n x n floats, layout [c][r][col]: the value of
 * in at (r, c) lands at d4_cell(g, r, c). out and in must not overlap. */
void group_planes(float *out, const float *in, int g, int C, int n);
/* Same on one-byte-per-cell states (n x n bytes). No overlap. */
void group_bytes(uint8_t *out, const uint8_t *in, int g, int n);
/* Table of the cell permutation: perm[r*n + c] = destination index of (r, c)
 * under g. Lets hot paths transform many rows without recomputing indices. */
void group_cell_perm(int *perm, int g, int n);

#endif
