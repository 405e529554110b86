# equigrid - build, test, sanitize, bench. `make help` lists the targets.
CC      ?= cc
OPT     ?= -O3 -march=native -fno-math-errno
BUILD   ?= build
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L
# -Wno-psabi: GCC notes that 32-byte vector arguments change the ABI when AVX
# is off (make sanitize builds without -march=native); nn.c passes them only
# to its own static inline helpers, never across objects.
WARN    := -Wall -Wextra -Wshadow -pedantic -Wno-psabi
PKGS    := openblas sdl2 SDL2_ttf SDL2_image libgif inih libcjson cairo
TESTPKG := check
PKG_CONFIG ?= pkg-config
# pkg-config runs when a recipe first needs the flags, once: make deps, clean
# and help work (and print no "Package check was not found") before the
# packages are installed.
lazy_pkg = $(eval $1 := $(shell $(PKG_CONFIG) $2))$($1)
PKG_CFLAGS  = $(call lazy_pkg,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS    = $(call lazy_pkg,PKG_LIBS,--libs $(PKGS))
TEST_CFLAGS = $(call lazy_pkg,TEST_CFLAGS,--cflags $(TESTPKG))
TEST_LIBS   = $(call lazy_pkg,TEST_LIBS,--libs $(TESTPKG))
CFLAGS  ?=
CFLAGS  += $(STD) $(WARN) $(OPT) -MMD -MP $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lm

MODULES  := core envs nn equivariance replay configs agents experiments render
LIB_SRC  := $(wildcard $(addsuffix /*.c,$(MODULES)))
CMD_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c): the library built with clang,
# coverage and ASan + UBSan into its own directory; each harness runs for
# FUZZ_SECONDS (tests/fuzz/run).
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_OBJ     := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(BUILD)/tests/fuzz/memfile.o

# Debian packages the project needs (make deps installs the missing ones).
DEB_PKGS := build-essential pkg-config libopenblas-dev check libsubunit-dev \
            libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libgif-dev libinih-dev \
            libcjson-dev libcairo2-dev xvfb xauth fonts-dejavu-core \
            slurm-wlm munge parallel clang libclang-rt-14-dev python3-numpy \
            python3-torch

.PHONY: all test test-cluster sanitize fuzz fuzz-build bench deps clean help check-layers
# keep test objects: they are intermediate files of a pattern chain
.SECONDARY:
all: equigrid

equigrid: $(BUILD)/equigrid
	rm -f $@ && cp $< $@

$(BUILD)/equigrid: $(CMD_OBJ) $(BUILD)/libequigrid.a
	$(CC) $(CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libequigrid.a $(LDLIBS)

$(BUILD)/libequigrid.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libequigrid.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libequigrid.a $(TEST_LIBS) $(LDLIBS)

# Runs every Check suite (tests/run prints one total line). Suites that drive
# the command line run $(BUILD)/equigrid, so `make sanitize` tests the
# sanitized program without touching ./equigrid.
test: $(TESTS) $(BUILD)/equigrid
	@BUILD=$(BUILD) EQUIGRID_BIN=$(BUILD)/equigrid sh tests/run $(TESTS)

# The README's cluster recipes (GNU parallel, and Slurm on a one-node cluster
# it brings up here; needs root) against a local compare of a tiny spec.
test-cluster: $(BUILD)/equigrid
	@EQUIGRID_BIN=$(BUILD)/equigrid sh tests/cluster.sh

# The same suites built with AddressSanitizer and UndefinedBehaviorSanitizer;
# tests/lsan.supp names the system libraries whose lifetime caches LSan reports.
sanitize:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 $(MAKE) BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" test

# Builds the harnesses and the seed checkpoint in $(FUZZ_BUILD), then runs
# each harness for FUZZ_SECONDS; fails naming the saved crashing input.
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="$(FUZZ_OPT)" fuzz-build
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 sh tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BINS) $(BUILD)/fuzz/seed/checkpoint.safetensors

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/memfile.o $(BUILD)/libequigrid.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/tests/fuzz/memfile.o $(BUILD)/libequigrid.a $(LDLIBS)

# A checkpoint of a few KB (tests/fuzz/tiny.ini) for the checkpoint and
# safetensors corpora, made by this build's own binary.
$(BUILD)/fuzz/seed/checkpoint.safetensors: $(BUILD)/equigrid tests/fuzz/tiny.ini
	rm -rf $(BUILD)/fuzz/seed
	@mkdir -p $(BUILD)/fuzz/seed
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(BUILD)/equigrid train tests/fuzz/tiny.ini --out $(BUILD)/fuzz/seed/run --quiet
	cp $(BUILD)/fuzz/seed/run/checkpoint.safetensors $@

# Fails naming file:line on an #include that the layering table forbids.
check-layers:
	@sh tools/check-layers

bench: equigrid
	OPENBLAS_NUM_THREADS=1 ./equigrid bench all

deps:
	@sh tests/deps.sh $(DEB_PKGS)

clean:
	rm -rf build build-san $(FUZZ_BUILD) equigrid

help:
	@echo "make          build ./equigrid"
	@echo "make deps     install missing Debian packages (apt-get, needs root or sudo)"
	@echo "make test     build and run every Check suite"
	@echo "make test-cluster  the README's cluster recipes under GNU parallel and a local Slurm (root)"
	@echo "make sanitize the same suites under ASan + UBSan"
	@echo "make fuzz     libFuzzer harnesses, FUZZ_SECONDS (default 60) each"
	@echo "make check-layers  every #include follows the layering table"
	@echo "make bench    env, GEMM and training throughput figures"
	@echo "make clean    remove build outputs"

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(TESTS:=.d) $(FUZZ_OBJ:.o=.d)
