/* test_transfer.c - the transfer experiment's spec reader (inih through
 * configs/inifile.h: repeated keys, line-numbered messages, over-long lines,
 * seeds by the rules of compare specs) and its stage planner (variants,
 * seeds and overrides of pretrain, zero-shot and fine-tune). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../experiments/transfer.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/eqg-transfer-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_msg(system(cmd) == 0, "cannot remove %s", tmpdir);
}

/* Writes text to tmpdir/t.ini; the path goes to path. */
static void spec(char *path, size_t len, const char *text)
{
    snprintf(path, len, "%s/t.ini", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static const char *const ENV = "\n[env lava]\nconfig = configs/transfer/lava-wall.ini\n";

/* Loading "[transfer]\n" + body + ENV fails with a message holding every
 * one of the NULL-ended substrings. */
static void expect_error(const char *body, const char *const *subs)
{
    char path[128], text[8192], err[2048] = "";
    snprintf(text, sizeof text, "[transfer]\n%s%s", body, ENV);
    spec(path, sizeof path, text);
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t != NULL, "malloc");
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1, "<<%s>> should fail", body);
    for (int i = 0; subs[i]; i++)
        ck_assert_msg(strstr(err, subs[i]) != NULL, "<<%.60s>>: message should contain '%s': %s", body, subs[i], err);
    free(t);
}

#define EXPECT(body, ...)                                  \
    do {                                                   \
        const char *const subs_[] = {__VA_ARGS__, NULL};   \
        expect_error(body, subs_);                         \
    } while (0)

START_TEST(test_load_shipped)
{
    char err[2048];
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, "configs/transfer/transfer.ini", err, sizeof err) == 0, "shipped spec: %s", err);
    ck_assert_msg(t->nenvs == 2 && strcmp(t->envs[0].name, "lava-wall") == 0 && strcmp(t->envs[1].name, "rooms-corner") == 0, "two envs");
    ck_assert_msg(t->nseeds == 5 && t->seeds[0] == 1 && t->seeds[4] == 5, "seeds 1..5");
    ck_assert_msg(t->nmethods == 3 && t->ngroups == 3 && strcmp(t->groups[1], "rot90") == 0, "methods x groups");
    ck_assert_msg(t->nall == 2 && t->nlambda == 3 && t->nft == 2 && t->nscratch == 1, "repeated set keys all kept: %d %d %d %d", t->nall, t->nlambda, t->nft, t->nscratch);
    ck_assert_msg(strcmp(t->lambda[2], "train.learning_starts=500") == 0, "inline comment stripped, order kept: '%s'", t->lambda[2]);
    ck_assert_msg(t->lambda_steps == 5000 && t->finetune_steps == 20000 && strcmp(t->out, "runs/transfer") == 0, "numbers and out");
    free(t);
}
END_TEST

START_TEST(test_seeds)
{
    make_tmp();
    EXPECT("seeds = 1,1\n", "t.ini:2: [transfer] seeds = 1,1", "listed twice");
    EXPECT("seeds = -1\n", "t.ini:2: [transfer] seeds = -1", "non-negative integers");
    EXPECT("seeds = 1,,2\n", "t.ini:2: [transfer] seeds = 1,,2", "comma-separated");
    EXPECT("seeds =\n", "t.ini:2: [transfer] seeds = ", "no seeds");
    char many[1024] = "seeds = ";
    for (int i = 1; i <= CMP_MAX_SEEDS + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), i > 1 ? ",%d" : "%d", i);
    strcat(many, "\n");
    EXPECT(many, "t.ini:2: [transfer] seeds = 1,2,3", "too many seeds; allowed: at most 64");
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nseeds = 7, 3\n[env a]\nconfig = c.ini\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "two seeds: %s", err);
    ck_assert_msg(t->nseeds == 2 && t->seeds[0] == 7 && t->seeds[1] == 3, "seeds in order");
    free(t);
    rm_tmp();
}
END_TEST

START_TEST(test_errors)
{
    make_tmp();
    EXPECT("nmae = x\n", "t.ini:2: [transfer] nmae: unknown key", "allowed: name, seeds");
    EXPECT("methods = equitune, ridge\n", "t.ini:2: methods = equitune, ridge: invalid value");
    EXPECT("finetune_steps = 0\n", "t.ini:2: finetune_steps = 0: invalid value");
    EXPECT("[transfr]\n", "t.ini:2: [transfr]: unknown section", "allowed: [transfer], [env NAME]");
    EXPECT("[env lava\n", "t.ini:2: [env lava: section header without ']'");
    EXPECT("just words\n", "t.ini:2: just words: expected 'key = value'");
    EXPECT("[env lava]\nconfig = a.ini\n", "t.ini:5: [env lava]: duplicate env name (first at line 2)");
    EXPECT("[env b]\nset = train.lr=1\n", "t.ini:2: [env b]: no config = PATH");
    char path[128], err[2048];
    spec(path, sizeof path, "name = x\n[transfer]\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1 && strstr(err, "t.ini:1: name = x: expected 'key = value' inside [transfer]"), "key before a section: %s", err);
    spec(path, sizeof path, "[transfer]\nname = x\n");
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1 && strstr(err, "t.ini: no [env NAME] section"), "no env: %s", err);
    free(t);
    rm_tmp();
}
END_TEST

START_TEST(test_long_lines)
{
    make_tmp();
    /* a comment longer than the old 1023-byte buffer whose tail looks like a
     * key: once split, "name = evil" became a key; now the line is an error */
    char body[2048] = ";";
    memset(body + 1, 'x', 1100);
    strcpy(body + 1101, " name = evil\n");
    EXPECT(body, "t.ini:2: line longer than 198 characters");
    char edge[256] = "name = ";
    memset(edge + 7, 'n', 191);
    strcpy(edge + 198, "\n");
    EXPECT(edge, "t.ini:2: name = ", "invalid value"); /* 198 characters: read (the name is too long) */
    /* an indented line is a key of its own, not a continuation */
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nset = eval.eval_every=100\n    set = eval.eval_episodes=3\n[env a]\nconfig = c.ini\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "indented key: %s", err);
    ck_assert_msg(t->nall == 2 && strcmp(t->all[1], "eval.eval_episodes=3") == 0, "two sets: %d", t->nall);
    free(t);
    rm_tmp();
}
END_TEST

/* The set of variant v of s that starts with prefix, or NULL. */
static const char *find_set(const CompareVariant *v, const char *prefix)
{
    const char *last = NULL;
    for (int i = 0; i < v->nsets; i++)
        if (strncmp(v->sets[i], prefix, strlen(prefix)) == 0)
            last = v->sets[i];
    return last;
}

START_TEST(test_stages)
{
    make_tmp();
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nname = tt\nseeds = 4,9\nout = O\nmethods = equitune, lambda\ngroups = flip\nlambda_steps = 100\nfinetune_steps = 300\n"
                            "set = eval.eval_episodes=5\nlambda_set = agent.eps_start=0.1\nfinetune_set = agent.eps_steps=7\nscratch_set = agent.eps_steps=9\n"
                            "[env a]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=200\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "load: %s", err);
    CompareSpec *st[TRANSFER_STAGES];
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        st[k] = transfer_stage(t, (TransferStage)k, err, sizeof err);
        ck_assert_msg(st[k] != NULL, "stage %d: %s", k, err);
        ck_assert_msg(st[k]->nseeds == 2 && st[k]->seeds[0] == 4 && st[k]->seeds[1] == 9, "stage %d seeds", k);
    }
    ck_assert_msg(strcmp(st[0]->out, "O/pretrain") == 0 && strcmp(st[2]->name, "tt-finetune") == 0, "stage dirs and names");
    ck_assert_msg(st[0]->nvariants == 1 && strcmp(st[0]->variants[0].name, "a-plain") == 0, "pretrain: plain only");
    ck_assert_msg(strcmp(find_set(&st[0]->variants[0], "env.orientation="), "env.orientation=identity") == 0 && !find_set(&st[0]->variants[0], "network.init="), "pretrain on identity, from scratch");
    ck_assert_msg(st[1]->nvariants == 3 && strcmp(st[1]->variants[2].name, "a-lambda-flip") == 0, "zero-shot: plain + 2 methods x 1 group");
    const CompareVariant *lam = &st[1]->variants[2], *eqt = &st[1]->variants[1];
    ck_assert_msg(strcmp(find_set(lam, "train.steps="), "train.steps=100") == 0 && strcmp(find_set(lam, "train.freeze_q="), "train.freeze_q=true") == 0 && find_set(lam, "agent.eps_start="), "lambda fits λ only");
    ck_assert_msg(strcmp(find_set(eqt, "train.steps="), "train.steps=0") == 0 && !find_set(eqt, "agent.eps_start="), "equitune: no training");
    ck_assert_msg(strcmp(find_set(eqt, "network.init="), "network.init=O/pretrain/a-plain/seed-{seed}/checkpoint.safetensors") == 0, "loads the pretrained network: %s", find_set(eqt, "network.init="));
    ck_assert_msg(st[2]->nvariants == 4 && strcmp(st[2]->variants[3].name, "a-scratch") == 0, "fine-tune: + scratch");
    const CompareVariant *scr = &st[2]->variants[3], *ftp = &st[2]->variants[0];
    ck_assert_msg(!find_set(scr, "network.init=") && strcmp(find_set(scr, "agent.eps_steps="), "agent.eps_steps=9") == 0, "scratch: random init, scratch_set");
    ck_assert_msg(find_set(ftp, "network.init=") && strcmp(find_set(ftp, "agent.eps_steps="), "agent.eps_steps=7") == 0 && strcmp(find_set(ftp, "train.steps="), "train.steps=300") == 0, "fine-tune: finetune_set and steps");
    for (int k = 0; k < TRANSFER_STAGES; k++)
        compare_spec_free(st[k]);
    free(t);
    rm_tmp();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transfer");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"load_shipped", test_load_shipped},
        {"seeds", test_seeds},
        {"errors", test_errors},
        {"long_lines", test_long_lines},
        {"stages", test_stages},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
