# lwfp: `make` builds everything, `make check` runs the tests (sanitized),
# `make demo` runs the demo, `make install` honours PREFIX and DESTDIR.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec/lwfp
DATADIR ?= $(PREFIX)/share/lwfp
MANDIR ?= $(PREFIX)/share/man
LOCALEDIR ?= $(PREFIX)/share/locale
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

VERSION := 0.1.0
SOVERSION := 0

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
BUILD ?= build

# SANITIZE=1 builds user space with ASan and UBSan (what `make check` uses).
SANITIZE ?=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all
endif

CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
# the Windows-source examples get only the caller's flags, not the project's
WS_EXAMPLE_CFLAGS := $(CFLAGS)
CFLAGS += -DLWFP_LOCALEDIR='"$(LOCALEDIR)"' -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	  -fvisibility=hidden -fPIC -D_GNU_SOURCE -Iinclude \
	  -DLWFP_VERSION='"$(VERSION)"' -DLWFP_LIBEXECDIR='"$(LIBEXECDIR)"' \
	  $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
LIBS_BPF := -lbpf -lelf -lz
LIBS_JSON := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
JSON_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# The kernel's types come from src/bpf/kernel.bpf.h and the UAPI headers
# (never from the running kernel): <linux/types.h> needs the multiarch
# <asm/types.h>, which -target bpf does not look for by itself.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -fdebug-prefix-map=$(CURDIR)=. \
	      $(if $(MULTIARCH),-idirafter /usr/include/$(MULTIARCH)) \
	      -Isrc/abi -Isrc/bpf -Wall -Werror

# The layers (docs/hacking.md), each compiled with the headers it may use:
# its own, those of the layers below it, and the public include/.
INC_abi := -Isrc/abi
INC_common := $(INC_abi) -Isrc/common
INC_lib := $(INC_common) -Isrc/lib
INC_control := $(INC_common) -Isrc/control -I$(BUILD)
INC_cli := $(INC_common) -Isrc/control -Isrc/cli
INC_winsock := $(INC_common) -Iinclude/winsock -Isrc/winsock
# tests, fuzzers and benchmarks may look inside every layer
INC_tests := $(INC_common) -Isrc/lib -Isrc/control -Isrc/cli -I$(BUILD)

# The library (include/lwfp.h) is common/ and lib/; the CLI, control/ and
# cli/, links it statically.
LIB_SRCS := $(wildcard src/common/*.c src/lib/*.c)
CLI_SRCS := $(wildcard src/control/*.c src/cli/*.c)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:src/%.c=$(BUILD)/obj/%.o)
CLI_MAIN := $(BUILD)/obj/cli/main.o
BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_HDRS := $(wildcard src/bpf/*.h) $(wildcard src/abi/*.h)
SKELS := $(BPF_SRCS:src/bpf/%.bpf.c=$(BUILD)/%.skel.h)

# The Winsock-compatible layer: its own library, headers and pkg-config.
WS_SRCS := $(wildcard src/winsock/*.c)
WS_OBJS := $(WS_SRCS:src/winsock/%.c=$(BUILD)/obj/winsock/%.o)
WS_HDRS := $(wildcard include/winsock/*.h)
# the headers as Windows sources spell them (Windows.h, WinSock2.h...)
WS_SPELLINGS := $(wildcard include/winsock/spellings/*)
WS_LIBS := $(if $(WS_SRCS),$(BUILD)/liblwfp-winsock.so $(BUILD)/liblwfp-winsock.a)
# pkg-config files that point into the build tree
UNINST_PC := $(BUILD)/pkgconfig/lwfp.pc \
	     $(if $(WS_SRCS),$(BUILD)/pkgconfig/lwfp-winsock.pc)

# Messages in the reader's language: po/LANG.po, built by msgfmt into
# $(BUILD)/locale (LWFP_LOCALEDIR=$(BUILD)/locale runs the build tree in
# them), installed where gettext looks (docs/hacking.md: A message for people).
LINGUAS := $(basename $(notdir $(wildcard po/*.po)))
MOS := $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/lwfp.mo)
I18N_SRCS := $(sort $(LIB_SRCS) $(CLI_SRCS))
# The man pages in those languages (po4a, po/man/po4a.cfg names the pages)
MAN_LINGUAS := $(basename $(notdir $(wildcard po/man/*.po)))
MAN_PAGES := $(shell sed -n 's|^\[type: man\] man/\([^ ]*\) .*|\1|p' po/man/po4a.cfg)
LOCAL_MANS := $(foreach l,$(MAN_LINGUAS),$(MAN_PAGES:%=$(BUILD)/man/$(l)/%))

# Windows sources (winsock-*.c) build unchanged, through pkg-config only.
EXAMPLE_SRCS := $(filter-out examples/winsock-%.c,$(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
WS_EXAMPLE_SRCS := $(if $(WS_SRCS),$(wildcard examples/winsock-*.c))
WS_EXAMPLE_CXX_SRCS := $(if $(WS_SRCS),$(wildcard examples/winsock-*.cpp))
WS_EXAMPLES := $(WS_EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%) \
	       $(WS_EXAMPLE_CXX_SRCS:examples/%.cpp=$(BUILD)/examples/%)
# Example helpers shared by the examples: examples/lib/*.c
EXAMPLE_LIB_SRCS := $(wildcard examples/lib/*.c)
EXAMPLE_LIB_OBJS := $(EXAMPLE_LIB_SRCS:examples/lib/%.c=$(BUILD)/obj/examples/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
E2E_SRCS := $(wildcard tests/e2e/test_*.c)
# attacks on the engine, each as a user would make it (tests/security/)
SEC_SRCS := $(wildcard tests/security/test_*.c)
SEC_BINS := $(SEC_SRCS:tests/security/%.c=$(BUILD)/tests/security/%)
# what the end-to-end tests and the benchmarks share
HARNESS_OBJ := $(BUILD)/obj/tests/harness.o
E2E_BINS := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
ifeq ($(WS_SRCS),)
FUZZ_SRCS := $(filter-out tests/fuzz/fuzz_winsock.c,$(FUZZ_SRCS))
endif
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.SECONDARY:
.PHONY: pot FORCE soak install-winsock all programs deps check check-kernels check-mingw check-unit check-e2e check-fuzz fuzz demo install \
	uninstall clean bench
all: programs $(UNIT_TESTS) $(E2E_BINS) $(SEC_BINS)

# What make install installs (no test: a package build needs no cmocka).
programs: $(BUILD)/lwfp $(MOS) $(LOCAL_MANS) $(BUILD)/lwfp.service $(BUILD)/lwfp-broker.service $(BUILD)/liblwfp.so $(BUILD)/liblwfp.a $(BUILD)/lwfp.pc \
	$(if $(WS_SRCS),$(BUILD)/lwfp-winsock.pc) $(WS_LIBS) $(UNINST_PC) $(EXAMPLES) $(WS_EXAMPLES)

# DWARF goes (it names the build directory; libbpf reads only BTF, which
# stays): the object, and the skeleton that embeds it, are the same
# wherever they are built.
$(BUILD)/%.bpf.o: src/bpf/%.bpf.c $(BPF_HDRS) Makefile
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp && mv $@.tmp $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# the layer is the first folder of the stem: obj/lib/engine.o is lib's
$(BUILD)/obj/%.o: src/%.c $(wildcard src/*/*.h) include/lwfp.h $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INC_$(firstword $(subst /, ,$*))) \
		$(JSON_CFLAGS) -c $< -o $@

# The SONAME links let programs linked against the build tree run from it.
$(BUILD)/liblwfp.so: $(LIB_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,liblwfp.so.$(SOVERSION) -o $@ $^ $(LIBS_BPF) -lpthread
	ln -sf liblwfp.so $(@D)/liblwfp.so.$(SOVERSION)

$(BUILD)/liblwfp.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/lwfp: $(CLI_OBJS) $(BUILD)/liblwfp.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_BPF) $(LIBS_JSON) -lpthread

comma := ,
PC_SUBST = sed -e 's|@PREFIX@|$(1)|;s|@LIBDIR@|$(2)|;s|@INCLUDEDIR@|$(3)|;s|@WSINCLUDEDIR@|$(4)|;s|@RPATH@|$(5)|;s|@VERSION@|$(VERSION)|'

$(BUILD)/locale/%/LC_MESSAGES/lwfp.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@.tmp $< && mv $@.tmp $@

# po4a writes every page in every language at once (--keep 100: only
# complete translations); --no-update leaves po/man/ as it is.
$(LOCAL_MANS) &: po/man/po4a.cfg $(wildcard po/man/*.po) $(MAN_PAGES:%=man/%)
	@mkdir -p $(BUILD)
	po4a --no-update --destdir $(BUILD) po/man/po4a.cfg

# After a change of messages: the template, and each catalogue merged
# with it (then translate what msgmerge marked fuzzy or left empty).
pot:
	xgettext --from-code=UTF-8 -k_ -kN_ -kP_:1,2 \
		--add-comments=TRANSLATORS: --package-name=lwfp \
		--package-version=$(VERSION) -o po/lwfp.pot $(I18N_SRCS)
	for l in $(LINGUAS); do msgmerge -q --update --backup=none \
		po/$$l.po po/lwfp.pot; done
	po4a --no-translations --package-name lwfp \
		--package-version $(VERSION) po/man/po4a.cfg

# Paths baked into what is built: a change of PREFIX rebuilds those.
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(LIBEXECDIR) $(BINDIR) $(SYSCONFDIR) $(LOCALEDIR)' | cmp -s - $@ || \
		echo '$(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(LIBEXECDIR) $(BINDIR) $(SYSCONFDIR) $(LOCALEDIR)' > $@
FORCE:
$(BUILD)/obj/cli/cmd_demo.o $(BUILD)/obj/common/i18n.o: $(BUILD)/paths.stamp

# The systemd units name the installed lwfp and its configuration file.
$(BUILD)/%.service: %.service.in Makefile $(BUILD)/paths.stamp
	@mkdir -p $(@D)
	sed -e 's|@BINDIR@|$(BINDIR)|g;s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

$(BUILD)/%.pc: %.pc.in Makefile $(BUILD)/paths.stamp
	$(call PC_SUBST,$(PREFIX),$(LIBDIR),$(INCLUDEDIR),$(INCLUDEDIR)/lwfp-winsock) $< > $@

$(BUILD)/pkgconfig/%.pc: %.pc.in Makefile
	@mkdir -p $(@D)
	$(call PC_SUBST,$(CURDIR),$(abspath $(BUILD)),$(CURDIR)/include,$(CURDIR)/include/winsock,-Wl$(comma)-rpath$(comma)$(abspath $(BUILD))) $< > $@

$(BUILD)/obj/winsock/%.o: src/winsock/%.c $(wildcard src/winsock/*.h) $(WS_HDRS) include/lwfp.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INC_winsock) -c $< -o $@

# Run path $ORIGIN: liblwfp-winsock finds the liblwfp beside it, in the
# build tree, in a DESTDIR or unpacked package, and installed (there the
# system's library directory, which it searches anyway).
$(BUILD)/liblwfp-winsock.so: $(WS_OBJS) $(BUILD)/liblwfp.so
	$(CC) $(LDFLAGS) -shared -Wl,-soname,liblwfp-winsock.so.$(SOVERSION) -Wl,-rpath,'$$ORIGIN' -o $@ $(WS_OBJS) -L$(BUILD) -llwfp -lpthread
	ln -sf liblwfp-winsock.so $(@D)/liblwfp-winsock.so.$(SOVERSION)

$(BUILD)/liblwfp-winsock.a: $(WS_OBJS)
	rm -f $@ && ar rcs $@ $^

# Exactly what a Windows developer would type, against the build tree;
# but for the run path: the build tree's, an absolute path, becomes
# $ORIGIN/.. (the same directory from build/examples/; from where make
# install puts them, nothing: installed, they find the libraries on the
# system's path).
WS_EXAMPLE_LINK = $$(PKG_CONFIG_PATH=$(BUILD)/pkgconfig pkg-config --static \
	--cflags --libs lwfp-winsock | \
	sed 's|-Wl,-rpath,$(abspath $(BUILD))|-Wl,-rpath,$$ORIGIN/..|')
$(BUILD)/examples/winsock-%: examples/winsock-%.c $(WS_LIBS) $(UNINST_PC) $(BUILD)/liblwfp.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WS_EXAMPLE_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(WS_EXAMPLE_LINK)

$(BUILD)/examples/winsock-%: examples/winsock-%.cpp $(WS_LIBS) $(UNINST_PC) $(BUILD)/liblwfp.a
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(LDFLAGS) -o $@ $< \
		$(WS_EXAMPLE_LINK)

$(BUILD)/obj/examples/%.o: examples/lib/%.c $(wildcard examples/lib/*.h) include/lwfp.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iexamples/lib -c $< -o $@

$(BUILD)/examples/%: examples/%.c $(EXAMPLE_LIB_OBJS) $(BUILD)/liblwfp.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iexamples/lib -o $@ $< $(EXAMPLE_LIB_OBJS) $(BUILD)/liblwfp.a $(LIBS_BPF) -lpthread $(LDFLAGS)

# Unit tests link the objects they test; cmocka provides the harness.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(CLI_OBJS) $(EXAMPLE_LIB_OBJS) $(BUILD)/liblwfp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) $(JSON_CFLAGS) -Iexamples/lib -o $@ $< \
		$(filter-out $(CLI_MAIN),$(CLI_OBJS)) $(EXAMPLE_LIB_OBJS) \
		$(BUILD)/liblwfp.a -lcmocka $(LIBS_BPF) $(LIBS_JSON) -lpthread $(LDFLAGS)

$(HARNESS_OBJ): tests/e2e/harness.c tests/e2e/harness.h include/lwfp.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) -c $< -o $@

# A test split by topic keeps its parts in tests/e2e/NAME/ (test_NAME.c
# holds its table): they are built into it.
test_parts = $(wildcard tests/e2e/$(patsubst test_%,%,$(1))/*.c)
$(BUILD)/tests/test_winsock: $(wildcard tests/e2e/winsock/*)
$(BUILD)/tests/test_offload: $(wildcard tests/e2e/offload/*)

$(BUILD)/tests/%: tests/e2e/%.c tests/e2e/harness.h $(HARNESS_OBJ) $(BUILD)/liblwfp.a $(WS_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) -Itests/e2e -Iinclude/winsock \
		-Itests/e2e/$(patsubst test_%,%,$*) -o $@ $< \
		$(call test_parts,$*) $(HARNESS_OBJ) \
		$(if $(WS_SRCS),$(BUILD)/liblwfp-winsock.a) $(BUILD)/liblwfp.a \
		$(LIBS_BPF) -lpthread $(LDFLAGS)

$(BUILD)/tests/security/%: tests/security/%.c tests/security/attack.c tests/security/attack.h tests/e2e/harness.h $(HARNESS_OBJ) $(BUILD)/liblwfp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) -Itests/e2e -o $@ $< \
		tests/security/attack.c $(HARNESS_OBJ) \
		$(BUILD)/liblwfp.a $(LIBS_BPF) -lpthread $(LDFLAGS)

# libFuzzer harnesses: one per parser (clang only).
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude $(INC_tests) -Iexamples/lib \
	       -DLWFP_VERSION='"$(VERSION)"' -DLWFP_LIBEXECDIR='"$(LIBEXECDIR)"' \
	       -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(CLI_SRCS) $(EXAMPLE_LIB_SRCS) $(SKELS) $(WS_SRCS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -I$(BUILD) $(JSON_CFLAGS) -o $@ $< \
		$(filter-out src/cli/main.c,$(LIB_SRCS) $(CLI_SRCS)) $(EXAMPLE_LIB_SRCS) \
		$(LIBS_BPF) $(LIBS_JSON) -lpthread

# The Winsock harness: its headers and sources too.
$(BUILD)/fuzz/fuzz_winsock: tests/fuzz/fuzz_winsock.c $(LIB_SRCS) $(WS_SRCS) $(WS_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(INC_winsock) -o $@ $< \
		$(LIB_SRCS) $(WS_SRCS) $(LIBS_BPF) -lpthread

deps:
	./scripts/deps.sh

# Benchmarks report ratios against a baseline measured in the same run.
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCH_OBJ := $(BUILD)/obj/bench/bench.o
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
# bench_scale fills the rule table through the control plane (admin.c).
BENCH_CP_OBJS := $(BUILD)/obj/control/admin.o $(BUILD)/obj/control/classify.o \
	$(BUILD)/obj/control/sockopt_hooks.o $(BUILD)/obj/control/cgroup_path.o \
	$(BUILD)/obj/control/proc.o $(BUILD)/obj/control/msg.o
$(BENCH_OBJ): bench/bench.c bench/bench.h tests/e2e/harness.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) -Itests/e2e -c $< -o $@

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) tests/e2e/harness.h $(BUILD)/liblwfp.a $(BENCH_CP_OBJS) $(BENCH_OBJ) $(HARNESS_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC_tests) -Itests/e2e -Ibench -o $@ $< $(BENCH_CP_OBJS) \
		$(BENCH_OBJ) $(HARNESS_OBJ) \
		$(BUILD)/liblwfp.a $(LIBS_BPF) -lpthread -lm $(LDFLAGS)

# Issue 15's sockmap prototype (bench_offload, not in run.sh's default
# list): its own BPF object and skeleton, beside the benchmark.
$(BUILD)/bench/%.bpf.o: bench/%.bpf.c src/bpf/kernel.bpf.h Makefile
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bench/bench_offload: $(BUILD)/bench/offload_proto.skel.h

bench: deps all $(BENCH_BINS)
	./bench/run.sh $(BUILD)

check: deps
	$(MAKE) SANITIZE=1 BUILD=build/check all $(patsubst build/%,build/check/%,$(FUZZERS) $(BENCH_BINS))
	./tests/run.sh build/check

# Debian's 6.1 and 6.12 kernels under qemu, and the host: each program's
# verified instructions within budget, and a real redirect on each.
check-kernels:
	./scripts/deps.sh kernels
	$(MAKE) all
	./tests/kernels/run.sh $(BUILD)

check-unit:
	$(MAKE) SANITIZE=1 BUILD=build/check all
	./tests/run.sh build/check unit

# lwfp-winsock against MinGW-w64 on public Windows Winsock samples
# (docs/winsock.md): SAMPLES is a checkout of
# github.com/microsoft/Windows-classic-samples at the commit
# tests/mingw/samples.txt names.
check-mingw: all
	./scripts/deps.sh mingw
	bash tests/mingw/check.sh $(BUILD) "$(SAMPLES)" "$(DOCS)"

fuzz: $(FUZZERS)

# The full soak (make check runs 3000): a million redirected connections.
soak: deps all
	LWFP_SOAK=$${LWFP_SOAK:-1000000} ./$(BUILD)/tests/test_soak ./$(BUILD)/lwfp

demo: deps all
	./$(BUILD)/lwfp demo --proxy ./$(BUILD)/examples/relay-proxy

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BUILD)/lwfp $(DESTDIR)$(BINDIR)/lwfp
	install -m 0644 $(BUILD)/lwfp.service $(DESTDIR)$(SYSTEMDUNITDIR)/lwfp.service
	install -m 0644 $(BUILD)/lwfp-broker.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lwfp-broker.service
	install -m 0755 $(BUILD)/liblwfp.so $(DESTDIR)$(LIBDIR)/liblwfp.so.$(VERSION)
	ln -sf liblwfp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblwfp.so.$(SOVERSION)
	ln -sf liblwfp.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liblwfp.so
	install -m 0644 $(BUILD)/liblwfp.a $(DESTDIR)$(LIBDIR)/liblwfp.a
	install -m 0644 include/lwfp.h $(DESTDIR)$(INCLUDEDIR)/lwfp.h
	install -m 0644 $(BUILD)/lwfp.pc $(DESTDIR)$(PKGCONFIGDIR)/lwfp.pc
	install -m 0755 $(EXAMPLES) $(WS_EXAMPLES) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 $(wildcard examples/*.layout) $(DESTDIR)$(DATADIR)/
	$(if $(WS_SRCS),$(MAKE) BUILD=$(BUILD) install-winsock)
	install -m 0644 man/lwfp.8 $(DESTDIR)$(MANDIR)/man8/lwfp.8
	install -m 0644 man/lwfp.3 $(DESTDIR)$(MANDIR)/man3/lwfp.3
	for m in $(LOCAL_MANS); do \
		l=$$(basename $$(dirname $$m)); s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/$$l/man$$s && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/$$l/man$$s/ || exit 1; \
	done
	for l in $(LINGUAS); do \
		install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
		install -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/lwfp.mo \
			$(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/lwfp.mo || exit 1; \
	done

install-winsock:
	install -d $(DESTDIR)$(INCLUDEDIR)/lwfp-winsock
	install -m 0644 $(WS_HDRS) $(DESTDIR)$(INCLUDEDIR)/lwfp-winsock/
	install -d $(DESTDIR)$(INCLUDEDIR)/lwfp-winsock/spellings
	install -m 0644 $(WS_SPELLINGS) $(DESTDIR)$(INCLUDEDIR)/lwfp-winsock/spellings/
	install -m 0755 $(BUILD)/liblwfp-winsock.so $(DESTDIR)$(LIBDIR)/liblwfp-winsock.so.$(VERSION)
	ln -sf liblwfp-winsock.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblwfp-winsock.so.$(SOVERSION)
	ln -sf liblwfp-winsock.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liblwfp-winsock.so
	install -m 0644 $(BUILD)/liblwfp-winsock.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(BUILD)/lwfp-winsock.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lwfp $(DESTDIR)$(LIBDIR)/liblwfp.* \
		$(DESTDIR)$(INCLUDEDIR)/lwfp.h $(DESTDIR)$(PKGCONFIGDIR)/lwfp.pc \
		$(DESTDIR)$(MANDIR)/man8/lwfp.8 $(DESTDIR)$(MANDIR)/man3/lwfp.3 \
		$(DESTDIR)$(PKGCONFIGDIR)/lwfp-winsock.pc \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lwfp.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lwfp-broker.service \
		$(LINGUAS:%=$(DESTDIR)$(LOCALEDIR)/%/LC_MESSAGES/lwfp.mo) \
		$(foreach l,$(MAN_LINGUAS),$(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/$(l)/man$(subst .,,$(suffix $(p)))/$(p)))
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(INCLUDEDIR)/lwfp-winsock

clean:
	rm -rf build
