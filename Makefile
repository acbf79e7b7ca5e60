# Makefile: the one, non-recursive build of xfed. ./configure only finds the
# compiler and libraries (config.mk, config.h); this file lists the work.
#
#   make / make all   build/xfed and build/xfedctl
#   make run          build, then run xfed in the foreground on ./var/
#   make check        everything under ASan+UBSan, then tests/run
#   make fuzz         each libFuzzer target for FUZZ_SECS (default 60), then
#                     the executions per target and in total (tools/fuzz)
#   make bench        throughput and memory figures
#   make install      PREFIX (/usr/local), DESTDIR
#   make deb          the Debian package, built from a copy of the tree in
#                     DEB_DIR (build/deb): xfed_*.deb, lintian's report

include config.mk

B       ?= build
PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
FUZZ_SECS ?= 60

WARN     = -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
ifeq ($(SAN),1)
OPT      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
else
OPT      = -O2 -g
endif
# XCPPFLAGS, XCFLAGS, XLDFLAGS: added by packagers (dpkg-buildflags)
CPPFLAGS = -I. -Iserver -Is2s -Idialback -Isasl -Istore -Itests -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' $(XCPPFLAGS)
CFLAGS   = -std=gnu11 $(OPT) $(WARN) $(DEPS_CFLAGS) $(XCFLAGS)
LDFLAGS  = $(filter -fsanitize=%,$(OPT)) $(XLDFLAGS)
LIBS     = $(DEPS_LIBS) -lm -pthread

# Every .c in a layer folder is part of the server library, except mains.
MAINS    = server/xfed.c tools/xfedctl.c
LIB_SRC  = $(filter-out $(MAINS),$(wildcard server/*.c s2s/*.c dialback/*.c \
	   sasl/*.c store/*.c))
CTL_SRC  = $(filter-out $(MAINS),$(wildcard tools/*.c))
UNIT_SRC = $(wildcard tests/unit/*_test.c)
FUZZ_SRC = $(wildcard tests/fuzz/*_fuzz.c)

LIB_OBJ  = $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
CTL_OBJ  = $(patsubst %.c,$(B)/%.o,$(CTL_SRC))
UNIT_BIN = $(patsubst %.c,$(B)/%,$(UNIT_SRC))

all: $(B)/xfed $(if $(wildcard tools/xfedctl.c),$(B)/xfedctl)

$(B)/libxfed.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/xfed: $(B)/server/xfed.o $(B)/libxfed.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/xfedctl: $(B)/tools/xfedctl.o $(CTL_OBJ) $(B)/libxfed.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/t.o: tests/t.c tests/t.h
$(B)/tests/unit/%_test: $(B)/tests/unit/%_test.o $(B)/tests/t.o $(B)/libxfed.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/%.o: %.c config.mk config.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)

tests: all $(UNIT_BIN)

# Fuzz targets: clang, libFuzzer, the library sources compiled in.
FB       = build/fuzz
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	   $(CPPFLAGS) $(DEPS_CFLAGS) -Wall -Wextra -Wno-unused-parameter
FUZZ_BIN = $(patsubst tests/fuzz/%_fuzz.c,$(FB)/%_fuzz,$(FUZZ_SRC))
$(FB)/%_fuzz: tests/fuzz/%_fuzz.c $(LIB_SRC) config.mk config.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LIBS)
fuzz-bins: $(FUZZ_BIN)

# FUZZ_SECS per target, FUZZ_SECS_<target> for one, FUZZ_TARGETS a subset,
# FUZZ_NICE; a line per target with libFuzzer's counts, then the total.
fuzz: fuzz-bins
	@FUZZ_SECS=$(FUZZ_SECS) tools/fuzz $(FUZZ_TARGETS)

check: config.mk
	@tools/deps check
	$(MAKE) B=build/san SAN=1 tests
	$(MAKE) fuzz-bins
	@tests/run build/san

run: all
	@tools/run-default $(B)

$(B)/tests/bench/ceiling: $(B)/tests/bench/ceiling.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: all $(B)/tests/bench/ceiling
	@tools/bench $(B)

# Without DESTDIR (a real install) the user, group and directories are
# made at once; a package has them made by its own tools. Every file gets
# its mode from install -m, never from the caller's umask (077 would make
# the unit unreadable to systemd). An existing /etc/xfed keeps its mode
# and an existing xfed.conf is never replaced; a new one is the commented
# sample, 0640 (it may hold secrets), group xfed on a real install.
UNITDIR ?= $(PREFIX)/lib/systemd/system
XFED_ETC = $(DESTDIR)$(SYSCONFDIR)/xfed
# a new xfed.conf goes to this group (its readers), on a real install only
XFED_GROUP ?= xfed
CONF_CHGRP ?= $(if $(DESTDIR),no,yes)
install: all
	[ -d $(XFED_ETC) ] || install -d -m 755 $(XFED_ETC)
	install -d -m 755 $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d
	install -m 755 $(B)/xfed $(B)/xfedctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 server/xfed.8 tools/xfedctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 server/xfed.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	$(B)/xfed -p > $(B)/xfed.conf.sample
	install -m 644 $(B)/xfed.conf.sample $(XFED_ETC)/xfed.conf.sample
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    server/xfed.service > $(B)/xfed.service
	install -m 644 $(B)/xfed.service $(DESTDIR)$(UNITDIR)/xfed.service
	install -m 644 server/xfed.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/xfed.conf
	install -m 644 server/xfed.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/xfed.conf
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers > /dev/null; then \
	    systemd-sysusers $(PREFIX)/lib/sysusers.d/xfed.conf && \
	    systemd-tmpfiles --create $(PREFIX)/lib/tmpfiles.d/xfed.conf; fi
	@if [ ! -e $(XFED_ETC)/xfed.conf ]; then \
	    install -m 640 $(B)/xfed.conf.sample $(XFED_ETC)/xfed.conf && \
	    echo "made $(XFED_ETC)/xfed.conf from the sample" && \
	    if [ "$(CONF_CHGRP)" = yes ]; then \
	    if getent group $(XFED_GROUP) > /dev/null; then \
	    chgrp $(XFED_GROUP) $(XFED_ETC)/xfed.conf; \
	    else echo "warning: no group $(XFED_GROUP) (systemd-sysusers makes it from $(PREFIX)/lib/sysusers.d/xfed.conf): $(XFED_ETC)/xfed.conf keeps group $$(id -gn); once the group exists: chgrp $(XFED_GROUP) $(XFED_ETC)/xfed.conf" >&2; fi; fi; \
	else echo "$(XFED_ETC)/xfed.conf kept; the new sample is xfed.conf.sample"; fi

# A copy of the sources, so that dpkg-buildpackage writes nothing here.
DEB_DIR ?= build/deb
DEB_SRC  = Makefile README configure.ac config.mk.in debian dialback s2s \
	   sasl server store tests tools
deb:
	@tools/deps deb > /dev/null || tools/deps deb
	rm -rf $(DEB_DIR)/xfed
	mkdir -p $(DEB_DIR)/xfed
	tar -cf - $(DEB_SRC) | tar -xf - -C $(DEB_DIR)/xfed
	cd $(DEB_DIR)/xfed && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
	    { tail -30 ../build.log; exit 1; }
	cd $(DEB_DIR) && lintian --fail-on error *.changes > lintian.log 2>&1 || \
	    { cat lintian.log; exit 1; }
	@ls $(DEB_DIR)/*.deb; cat $(DEB_DIR)/lintian.log

clean:
	rm -rf build

config.mk: configure.ac config.mk.in
	@tools/deps build
	autoreconf -fi
	./configure

.PHONY: all tests fuzz-bins fuzz check run bench install deb clean
.DELETE_ON_ERROR:
