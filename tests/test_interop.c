/* test_interop.c - checkpoints read outside equigrid: `equigrid export`
 * (the networks alone; everywhere but --resume) and tools/qvalues.py
 * recomputes `equigrid qvalues` with numpy for every method (none, equitune,
 * equizero, lambda, canonical), MLP and CNN, and
 * with the networks loaded into torch.nn.Sequential by load_state_dict where
 * torch is installed. The interpreter is the first of /usr/bin/python3 and
 * python3 that has numpy; without numpy (or torch) the test fails under
 * CI=true (make deps installs python3-numpy and python3-torch) and says it
 * skipped elsewhere. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../nn/safetensors.h"
#include "check_main.h"
#include "testutil.h"

/* The first interpreter that imports module, or NULL. */
static const char *python_with(const char *module)
{
    static const char *const cands[] = {"/usr/bin/python3", "python3"};
    char cmd[256], out[512];
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s -c 'import %s'", cands[i], module);
        if (test_sh(cmd, out, sizeof out) == 0)
            return cands[i];
    }
    return NULL;
}

static int in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

/* Up to max numbers of the JSON array after key in s; returns how many. */
static int json_floats(const char *s, const char *key, double *v, int max)
{
    const char *p = strstr(s, key);
    if (!p || !(p = strchr(p, '[')))
        return 0;
    int n = 0;
    for (p++; n < max && *p && *p != ']';) {
        char *end;
        v[n] = strtod(p, &end);
        if (end == p)
            return n;
        n++;
        p = end + strspn(end, ", ");
    }
    return n;
}

/* The view weights of `equigrid qvalues` output, in group order. */
static int view_weights(const char *s, double *v, int max)
{
    int n = 0;
    for (const char *p = strstr(s, "\"weight\": "); p && n < max; p = strstr(p + 1, "\"weight\": "))
        v[n++] = strtod(p + 10, NULL);
    return n;
}

static const char *map5 = "#####\n#A..#\n#...#\n#..G#\n#####\n";
static const char *lava5 = "#####\n#A.L#\n#...#\n#.LG#\n#####\n";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

/* Trains a tiny run with the given overrides into dir/name. */
static void train(const char *dir, const char *name, const char *sets)
{
    char cmd[3072], out[16384];
    snprintf(cmd, sizeof cmd,
             "%s train configs/goal-none.ini --out %s/%s --quiet --set env.size=5 --set train.steps=250 --set train.learning_starts=150 "
             "--set train.batch_size=16 --set eval.eval_episodes=2 --set network.hidden=16 --set network.conv=4,4 %s",
             test_bin(), dir, name, sets);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "%s: train failed: %s", name, out);
}

/* tools/qvalues.py (with extra, e.g. --torch) prints the Q_G and view
 * weights that `equigrid qvalues` prints for dir/name on map, within 1e-5. */
static void check_run(const char *py, const char *dir, const char *name, const char *map, const char *extra)
{
    char cmd[3072], out[16384], ref[16384];
    snprintf(cmd, sizeof cmd, "%s qvalues %s/%s/checkpoint.safetensors --map %s", test_bin(), dir, name, map);
    ck_assert_msg(test_sh(cmd, ref, sizeof ref) == 0, "%s: qvalues failed: %s", name, ref);
    snprintf(cmd, sizeof cmd, "%s tools/qvalues.py %s/%s/checkpoint.safetensors %s %s", py, dir, name, map, extra);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "%s: tools/qvalues.py %s failed: %s", name, extra, out);
    double q[8], pq[8], w[8], pw[8];
    int nq = json_floats(ref, "\"q\"", q, 8), npq = json_floats(out, "\"q\"", pq, 8);
    ck_assert_msg(nq == 4 && npq == 4, "%s: 4 Q-values each: qvalues %s; script %s", name, ref, out);
    for (int a = 0; a < nq; a++)
        ck_assert_msg(fabs(pq[a] - q[a]) <= 1e-5 * (1.0 + fabs(q[a])), "%s %s: action %d: script %.9g, qvalues %.9g", name, extra, a, pq[a], q[a]);
    int nw = view_weights(ref, w, 8), npw = json_floats(out, "\"weights\"", pw, 8);
    ck_assert_msg(nw == npw, "%s: %d view weights from qvalues, %d from the script", name, nw, npw);
    for (int i = 0; i < nw; i++)
        ck_assert_msg(fabs(pw[i] - w[i]) <= 1e-5, "%s %s: weight of view %d: script %.9g, qvalues %.9g", name, extra, i, pw[i], w[i]);
}

/* Every method, MLP and CNN, both equizero proxies and both lambda norms;
 * torch = also through torch.nn.Sequential (its import is slow: a few). */
static const struct {
    const char *name, *sets;
    int torch;
} runs[] = {
    {"none-mlp", "--set symmetry.method=none", 1},
    {"none-cnn", "--set symmetry.method=none --set network.type=cnn", 1},
    {"equitune-mlp", "--set symmetry.method=equitune", 0},
    {"equitune-cnn", "--set symmetry.method=equitune --set network.type=cnn --set symmetry.group=rot90", 0},
    {"equizero-mlp", "--set symmetry.method=equizero", 0},
    {"equizero-cnn", "--set symmetry.method=equizero --set network.type=cnn", 0},
    {"equizero-entropy", "--set symmetry.method=equizero --set symmetry.proxy=entropy --set symmetry.group=flip", 0},
    {"lambda-mlp", "--set symmetry.method=lambda", 1},
    {"lambda-cnn", "--set symmetry.method=lambda --set network.type=cnn", 0},
    {"lambda-softmax", "--set symmetry.method=lambda --set symmetry.lambda_norm=softmax --set symmetry.group=0,2", 0},
    {"canonical-mlp", "--set symmetry.method=canonical", 1},
    {"canonical-cnn", "--set symmetry.method=canonical --set network.type=cnn --set symmetry.group=rot90", 0},
};

static char tmp[64];

static void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/eqg-interop-XXXXXX");
    ck_assert_msg(mkdtemp(tmp) != NULL, "mkdtemp");
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    ck_assert(system(cmd) == 0);
}

START_TEST(qvalues_py)
{
    const char *py = python_with("numpy");
    if (!py) {
        ck_assert_msg(!in_ci(), "no python3 with numpy (make deps installs python3-numpy); CI=true: the interop test must run");
        printf("interop: skipped, neither /usr/bin/python3 nor python3 has numpy (make deps installs python3-numpy)\n");
        return;
    }
    const char *torch = python_with("torch");
    if (!torch) {
        ck_assert_msg(!in_ci(), "no python3 with torch (make deps installs python3-torch); CI=true: the torch interop test must run");
        printf("interop: torch part skipped, no python3 with torch (Debian: python3-torch)\n");
    }
    make_tmp();
    char map[128], lava[128];
    snprintf(map, sizeof map, "%s/map5.txt", tmp);
    snprintf(lava, sizeof lava, "%s/lava5.txt", tmp);
    write_text(map, map5);
    write_text(lava, lava5);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        train(tmp, runs[i].name, runs[i].sets);
        check_run(py, tmp, runs[i].name, map, "");
        if (torch && runs[i].torch)
            check_run(torch, tmp, runs[i].name, map, "--torch");
    }
    /* a map env's four planes (wall, agent, goal, lava) */
    char sets[256];
    snprintf(sets, sizeof sets, "--set env.name=map --set env.map=%s --set symmetry.method=lambda", lava);
    train(tmp, "lambda-lava", sets);
    check_run(py, tmp, "lambda-lava", lava, "");
    rm_tmp();
}
END_TEST

/* equigrid export: the networks alone, loadable everywhere but --resume. */
START_TEST(export_networks_only)
{
    make_tmp();
    char cmd[2048], out[16384], ref[16384], ck[256], ex[256], map[128];
    snprintf(map, sizeof map, "%s/map5.txt", tmp);
    write_text(map, map5);
    train(tmp, "run", "--set symmetry.method=lambda --set train.checkpoint_every=100");
    snprintf(ck, sizeof ck, "%s/run/checkpoint.safetensors", tmp);
    snprintf(ex, sizeof ex, "%s/x.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "%s export %s %s", test_bin(), ck, ex);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "bytes"), "export: %s", out);
    char err[1024];
    StFile *f = st_open(ex, err, sizeof err);
    ck_assert_msg(f != NULL, "the export opens: %s", err);
    int nq = 0, nl = 0;
    for (int i = 0; i < st_count(f); i++) {
        const char *n = st_at(f, i)->name;
        ck_assert_msg(strncmp(n, "q.", 2) == 0 || strncmp(n, "lambda.", 7) == 0, "only q.* and lambda.* tensors, found %s", n);
        nq += n[0] == 'q';
        nl += n[0] == 'l';
    }
    ck_assert_msg(nq == 4 && nl == 4, "q.{0,2} (hidden 16) and lambda.{0,2}, weight and bias each: %d q, %d lambda", nq, nl);
    ck_assert_msg(st_meta(f, "config") && strstr(st_meta(f, "config"), "method = lambda"), "the config is in the metadata");
    ck_assert_msg(st_meta(f, "content") && strcmp(st_meta(f, "content"), "networks") == 0, "metadata content = networks");
    st_close(f);
    struct stat sc, se;
    ck_assert_msg(stat(ck, &sc) == 0 && stat(ex, &se) == 0 && se.st_size * 3 < sc.st_size, "the export (%lld bytes) is a fraction of the checkpoint (%lld)", (long long)se.st_size, (long long)sc.st_size);
    /* the same Q-values and evaluation from both */
    snprintf(cmd, sizeof cmd, "%s qvalues %s --map %s", test_bin(), ck, map);
    ck_assert_msg(test_sh(cmd, ref, sizeof ref) == 0, "qvalues of the checkpoint: %s", ref);
    snprintf(cmd, sizeof cmd, "%s qvalues %s --map %s", test_bin(), ex, map);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strcmp(out, ref) == 0, "qvalues of the export equal the checkpoint's:\n%s\n%s", out, ref);
    snprintf(cmd, sizeof cmd, "%s eval %s --episodes 5 --json", test_bin(), ck);
    ck_assert_msg(test_sh(cmd, ref, sizeof ref) == 0, "eval of the checkpoint: %s", ref);
    snprintf(cmd, sizeof cmd, "%s eval %s --episodes 5 --json", test_bin(), ex);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strcmp(out, ref) == 0, "eval of the export equals the checkpoint's:\n%s\n%s", out, ref);
    /* network.init from an export */
    char sets[512];
    snprintf(sets, sizeof sets, "--set symmetry.method=lambda --set network.init=%s", ex);
    train(tmp, "init", sets);
    /* --resume refuses an export, saying why */
    snprintf(cmd, sizeof cmd, "cp %s %s", ex, ck);
    ck_assert(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/run --resume --set env.size=5 --set train.steps=500", test_bin(), tmp);
    ck_assert_msg(test_sh(cmd, out, sizeof out) != 0 && strstr(out, "is an export") && strstr(out, "--resume needs"), "resume from an export: %s", out);
    /* a file that is no checkpoint */
    snprintf(cmd, sizeof cmd, "%s export %s %s/y.safetensors", test_bin(), map, tmp);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 1 && strstr(out, "equigrid export: "), "export of a map: %s", out);
    rm_tmp();
}
END_TEST

static Suite *interop_suite(void)
{
    Suite *s = suite_create("interop");
    TCase *tc = tcase_create("qvalues.py");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, qvalues_py);
    tcase_add_test(tc, export_networks_only);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(interop_suite)
