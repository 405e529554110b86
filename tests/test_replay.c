/* test_replay.c - Check suite for replay/: push and sample, ring wrap-around,
 * uniform sampling (chi-square bound), determinism per seed, batch planes
 * against a naive per-bit reference, init failures and the memory budget. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../replay/replay.h"
#include "check_main.h"

/* Fills a state whose every byte encodes the transition number t. */
static void state_of(uint8_t *s, int ncells, int t, int salt)
{
    for (int i = 0; i < ncells; i++)
        s[i] = (uint8_t)(t * 31 + i * 7 + salt);
}

START_TEST(test_push_sample)
{
    Replay r;
    enum { NC = 6 };
    ck_assert_msg(replay_init(&r, 8, NC, 1, 2) == 0, "replay_init(8, 6) failed");
    ck_assert_msg(r.size == 0 && r.pos == 0 && r.capacity == 8 && r.ncells == NC, "fresh buffer: size %zu pos %zu", r.size, r.pos);
    uint8_t s[NC], s2[NC];
    for (int t = 0; t < 3; t++) {
        state_of(s, NC, t, 0);
        state_of(s2, NC, t, 100);
        replay_push(&r, s, t + 1, 0.5f * (float)t - 1.0f, s2, t == 2 ? 7 : 0);
    }
    ck_assert_msg(r.size == 3 && r.pos == 3, "after 3 pushes: size %zu pos %zu", r.size, r.pos);
    for (int t = 0; t < 3; t++) {
        state_of(s, NC, t, 0);
        state_of(s2, NC, t, 100);
        ck_assert_msg(memcmp(r.obs + t * NC, s, NC) == 0 && memcmp(r.next_obs + t * NC, s2, NC) == 0, "slot %d: states differ", t);
        ck_assert_msg(r.action[t] == t + 1 && r.reward[t] == 0.5f * (float)t - 1.0f, "slot %d: action %d reward %g", t, r.action[t], r.reward[t]);
        ck_assert_msg(r.done[t] == (t == 2), "slot %d: done %d (terminated != 0 must store 1)", t, r.done[t]);
    }
    size_t idx[200];
    replay_sample(&r, idx, 200);
    int seen[3] = { 0 };
    for (int b = 0; b < 200; b++) {
        ck_assert_msg(idx[b] < 3, "sampled index %zu outside [0, 3)", idx[b]);
        seen[idx[b]] = 1;
    }
    ck_assert_msg(seen[0] && seen[1] && seen[2], "200 draws from 3 must see every index");
    replay_free(&r);
    ck_assert_msg(r.obs == NULL && r.capacity == 0, "replay_free must zero the struct");
    replay_free(&r); /* second free is a no-op */
    Replay z;
    memset(&z, 0, sizeof z);
    replay_free(&z);
    replay_free(NULL);
}
END_TEST

START_TEST(test_wrap)
{
    Replay r;
    enum { CAP = 5, NC = 4, PUSHES = 12 };
    ck_assert_msg(replay_init(&r, CAP, NC, 3, 0) == 0, "replay_init failed");
    uint8_t s[NC], s2[NC];
    for (int t = 0; t < PUSHES; t++) {
        state_of(s, NC, t, 0);
        state_of(s2, NC, t, 1);
        replay_push(&r, s, t % 4, (float)t, s2, 0);
        ck_assert_msg(r.size == (size_t)(t + 1 < CAP ? t + 1 : CAP), "after %d pushes size %zu", t + 1, r.size);
        ck_assert_msg(r.pos == (size_t)((t + 1) % CAP), "after %d pushes pos %zu", t + 1, r.pos);
    }
    /* Slot i holds the newest t with t % CAP == i: t in [PUSHES - CAP, PUSHES). */
    for (int i = 0; i < CAP; i++) {
        int t = PUSHES - CAP + ((i - (PUSHES - CAP) % CAP + CAP) % CAP);
        state_of(s, NC, t, 0);
        ck_assert_msg(r.reward[i] == (float)t && memcmp(r.obs + i * NC, s, NC) == 0, "slot %d holds reward %g, expected transition %d", i, r.reward[i], t);
    }
    replay_free(&r);
}
END_TEST

START_TEST(test_uniform)
{
    enum { CAP = 64, FILL = 40, DRAWS = 200000 };
    Replay r;
    ck_assert_msg(replay_init(&r, CAP, 1, 11, 5) == 0, "replay_init failed");
    uint8_t s = 0;
    for (int t = 0; t < FILL; t++)
        replay_push(&r, &s, 0, 0.0f, &s, 0);
    static size_t idx[DRAWS];
    replay_sample(&r, idx, DRAWS);
    long count[FILL] = { 0 };
    size_t maxi = 0;
    for (int b = 0; b < DRAWS; b++)
        maxi = idx[b] > maxi ? idx[b] : maxi;
    ck_assert_msg(maxi < FILL, "index %zu outside [0, size = %d)", maxi, FILL);
    for (int b = 0; b < DRAWS; b++)
        count[idx[b]]++;
    double expect = (double)DRAWS / FILL, chi2 = 0;
    for (int i = 0; i < FILL; i++)
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    /* 39 degrees of freedom: mean 39, sd 8.8; 100 is beyond 6 sd. */
    ck_assert_msg(chi2 < 100.0, "chi-square %.1f over %d cells: sampling is not uniform", chi2, FILL);
    ck_assert_msg(chi2 > 5.0, "chi-square %.1f suspiciously small (not random?)", chi2);
    replay_free(&r);
}
END_TEST

START_TEST(test_determinism)
{
    Replay a, b, c;
    ck_assert_msg(replay_init(&a, 100, 2, 77, 3) == 0 && replay_init(&b, 100, 2, 77, 3) == 0 && replay_init(&c, 100, 2, 77, 4) == 0, "replay_init failed");
    uint8_t s[2] = { 1, 2 };
    for (int t = 0; t < 100; t++) {
        replay_push(&a, s, 0, 0.0f, s, 0);
        replay_push(&b, s, 0, 0.0f, s, 0);
        replay_push(&c, s, 0, 0.0f, s, 0);
    }
    size_t ia[256], ib[256], ic[256];
    replay_sample(&a, ia, 256);
    replay_sample(&b, ib, 256);
    replay_sample(&c, ic, 256);
    ck_assert_msg(memcmp(ia, ib, sizeof ia) == 0, "same seed and stream must give the same indices");
    ck_assert_msg(memcmp(ia, ic, sizeof ia) != 0, "a different stream must give different indices");
    replay_free(&a);
    replay_free(&b);
    replay_free(&c);
}
END_TEST

/* Batch planes against a naive per-bit reference, for several (C, n, B). */
START_TEST(test_batch_planes)
{
    static const int cases[][3] = { { 3, 9, 64 }, { 4, 11, 512 }, { 4, 7, 5 }, { 8, 4, 3 }, { 1, 3, 17 } };
    Rng rng;
    rng_seed(&rng, 5, 5);
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        int C = cases[ci][0], n = cases[ci][1], B = cases[ci][2], nc = n * n;
        Replay r;
        ck_assert_msg(replay_init(&r, 300, nc, 1, (uint64_t)ci) == 0, "replay_init failed");
        uint8_t *s = malloc((size_t)nc), *s2 = malloc((size_t)nc);
        for (int t = 0; t < 300; t++) {
            for (int i = 0; i < nc; i++) {
                s[i] = (uint8_t)rng_u32(&rng);
                s2[i] = (uint8_t)rng_u32(&rng);
            }
            replay_push(&r, s, (int)rng_below(&rng, 5), rng_normal(&rng), s2, (int)rng_below(&rng, 2));
        }
        size_t *idx = malloc(sizeof *idx * (size_t)B);
        replay_sample(&r, idx, B);
        size_t row = (size_t)C * (size_t)nc;
        float *o = malloc(sizeof *o * row * (size_t)B), *o2 = malloc(sizeof *o2 * row * (size_t)B);
        float *rew = malloc(sizeof *rew * (size_t)B), *done = malloc(sizeof *done * (size_t)B);
        int *act = malloc(sizeof *act * (size_t)B);
        for (size_t k = 0; k < row * (size_t)B; k++)
            o[k] = o2[k] = -7.0f; /* every output must be written */
        replay_batch(&r, idx, B, C, n, o, o2, act, rew, done);
        /* Check marks a point per assertion (a pipe write), so the inner
         * loop counts mismatches and remembers the first one. */
        long bad = 0;
        size_t first = 0;
        for (int b = 0; b < B; b++) {
            size_t i = idx[b];
            for (int k = 0; k < C; k++)
                for (int cell = 0; cell < nc; cell++) {
                    float want = (r.obs[i * (size_t)nc + (size_t)cell] >> k) & 1 ? 1.0f : 0.0f;
                    float want2 = (r.next_obs[i * (size_t)nc + (size_t)cell] >> k) & 1 ? 1.0f : 0.0f;
                    size_t at = (size_t)b * row + (size_t)k * (size_t)nc + (size_t)cell;
                    if (o[at] != want || o2[at] != want2) {
                        if (bad++ == 0)
                            first = at;
                    }
                }
            ck_assert_msg(act[b] == r.action[i] && rew[b] == r.reward[i] && done[b] == (float)r.done[i], "row %d: action/reward/done differ", b);
        }
        ck_assert_msg(bad == 0, "C=%d n=%d B=%d: %ld plane values differ from the per-bit reference, first at row %zu plane %zu cell %zu", C, n, B, bad, first / row, first % row / (size_t)nc, first % (size_t)nc);
        free(idx);
        free(o);
        free(o2);
        free(rew);
        free(done);
        free(act);
        free(s);
        free(s2);
        replay_free(&r);
    }
}
END_TEST

START_TEST(test_init_fail)
{
    Replay r;
    memset(&r, 0x5a, sizeof r);
    ck_assert_msg(replay_init(&r, 0, 81, 1, 1) == -1, "capacity 0 must fail");
    ck_assert_msg(r.obs == NULL && r.capacity == 0, "a failed init must leave a zeroed buffer");
    replay_free(&r);
    ck_assert_msg(replay_init(&r, 10, 0, 1, 1) == -1, "ncells 0 must fail");
    ck_assert_msg(replay_init(&r, 10, -3, 1, 1) == -1, "negative ncells must fail");
    ck_assert_msg(replay_init(&r, SIZE_MAX / 2, 81, 1, 1) == -1, "capacity * ncells overflow must fail");
    ck_assert_msg(replay_init(&r, SIZE_MAX, 1, 1, 1) == -1, "capacity SIZE_MAX must fail");
    ck_assert_msg(replay_init(&r, (size_t)UINT32_MAX + 1, 1, 1, 1) == -1, "capacity beyond 32-bit sampling must fail");
    ck_assert_msg(r.obs == NULL && r.size == 0, "failed inits must allocate nothing");
    replay_free(&r);
}
END_TEST

START_TEST(test_bytes)
{
    Replay r;
    ck_assert_msg(replay_init(&r, 1000, 81, 1, 1) == 0, "replay_init failed");
    ck_assert_msg(replay_bytes(&r) == 1000 * (2 * 81 + 6), "replay_bytes %zu, expected %d", replay_bytes(&r), 1000 * (2 * 81 + 6));
    replay_free(&r);
    /* The 1M-transition 9x9 budget, by arithmetic (nothing allocated). */
    memset(&r, 0, sizeof r);
    r.capacity = 1000000;
    r.ncells = 81;
    ck_assert_msg(replay_bytes(&r) <= 200u * 1024 * 1024, "1M 9x9 transitions need %zu bytes, budget 200 MiB", replay_bytes(&r));
}
END_TEST

static Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, test_push_sample);
    tcase_add_test(tc, test_wrap);
    tcase_add_test(tc, test_init_fail);
    tcase_add_test(tc, test_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("sampling");
    tcase_add_test(tc, test_uniform);
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);
    tc = tcase_create("batch");
    tcase_add_test(tc, test_batch_planes);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(replay_suite)
