/* suggest.c - "did you mean" (see suggest.h). */
#include "suggest.h"

#include <string.h>

int suggest_distance(const char *a, const char *b)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN)
        return SUGGEST_FAR;
    int d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
    for (int i = 0; i <= n; i++)
        d[i][0] = i;
    for (int j = 0; j <= m; j++)
        d[0][j] = j;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

int suggest_closeness(const char *typed, const char *cand)
{
    int d = suggest_distance(typed, cand);
    if (d <= 2 && d < (int)strlen(cand))
        return d;
    size_t lt = strlen(typed), lc = strlen(cand);
    size_t shorter = lt < lc ? lt : lc;
    if (shorter >= 2 && strncmp(typed, cand, shorter) == 0)
        return 3;
    return -1;
}

int suggest_nearest(const char *typed, const char *const *cands, int n)
{
    int best = -1, bi = -1;
    for (int i = 0; i < n; i++) {
        int s = suggest_closeness(typed, cands[i]);
        if (s >= 0 && (best < 0 || s < best)) {
            best = s;
            bi = i;
        }
    }
    return bi;
}
