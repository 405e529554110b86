/* check_main.h - the runner every Check suite shares. CHECK_MAIN(make)
 * defines main(): it runs the suite that make() returns (CK_NORMAL output)
 * and exits 1 when a test failed, 0 when all passed. */
#ifndef EQUIGRID_CHECK_MAIN_H
#define EQUIGRID_CHECK_MAIN_H

#include <check.h>

/* Runs suite s (the runner owns it) and returns the exit status: 0 when
 * every test passed, 1 otherwise. */
static inline int check_main_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#define CHECK_MAIN(make_suite) \
    int main(void)             \
    {                          \
        return check_main_run(make_suite()); \
    }

#endif
