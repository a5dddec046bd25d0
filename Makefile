# golm: build, test, install, man pages, demo.
#
#   make            build ./lmutil
#   make test       gofmt check, go vet, staticcheck, go test -race ./...
#   make install    PREFIX=/usr/local (DESTDIR honoured): lmutil, a link per
#                   command, man pages (section 1, and 5 for the file formats),
#                   bash and zsh completion, the systemd unit and sysusers file
#   make install-systemd  the systemd unit and sysusers file (contrib/systemd),
#                   with $(PREFIX)/bin as the programs' directory
#   make man        regenerate man/ from the command registry
#   make demo       show golm at work
#   make fuzz       run every fuzz target for FUZZTIME (30s) each
#   make soak       the soak: SOAK_CLIENTS (300) clients for SOAK_TIME (60s)
#                   against a real lmgrd, with kills, rereads and removes
#   make bench      benchmark suite against real lmgrd processes (about 10
#                   minutes on 2 cores); writes BENCHMARKS.md (not part of
#                   make test); BENCHFLAGS='-only restart,lines' runs some
#                   stages (-only triad: the three-server triad beside one
#                   server), BENCHFLAGS=-lines=2000,20000 leaves out 200,000 license lines
#   make clean      remove what the build made

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man/man1
MAN5DIR  = $(DESTDIR)$(PREFIX)/share/man/man5
UNITDIR  = $(DESTDIR)$(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(DESTDIR)$(PREFIX)/lib/sysusers.d
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
GO      ?= go
FUZZTIME ?= 30s
SOAK_TIME ?= 60s
SOAK_CLIENTS ?= 300
# staticcheck at a pinned version: the one on PATH when it is that
# version, else installed into the build cache's directory and run from there.
STATICCHECK_VERSION = 0.8.2
# urfave/cli's own Markdown and man page writers are left out of the
# binary: the man pages are the project's own generator's.
TAGS    ?= urfave_cli_no_docs
# make test compiles every package once: go vet and staticcheck look at the
# race-built packages that go test -race then runs, from the build cache.
RACE    ?= -race
GOFILES  = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')

.PHONY: all build test fmt-check vet staticcheck install install-systemd uninstall man demo bench clean

all: build

# A static binary without cgo: it runs on any Linux of the same
# architecture, and each daemon saves the 1.5 MB of resident memory the C
# library's mapping costs. User and group names then come from
# /etc/passwd and /etc/group; CGO_ENABLED=1 make build uses the system's
# name services (NSS: LDAP, SSSD) instead.
CGO_ENABLED ?= 0
build:
	CGO_ENABLED=$(CGO_ENABLED) $(GO) build -tags "$(TAGS)" -o lmutil .

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(RACE) -tags "$(TAGS)" ./...

# GOFLAGS=$(RACE): staticcheck loads the packages as go test -race builds
# them, so they are compiled once for both.
staticcheck:
	@sc=staticcheck; \
	if ! staticcheck -version 2>/dev/null | grep -q '($(STATICCHECK_VERSION))'; then \
		sc="$$($(GO) env GOCACHE)/golm-tools/staticcheck"; \
		echo "GOBIN=$${sc%/*} $(GO) install honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION)"; \
		GOFLAGS= GOBIN="$${sc%/*}" $(GO) install honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION) || exit 1; \
	fi; \
	echo GOFLAGS=$(RACE) $$sc -tags "$(TAGS)" ./...; GOFLAGS=$(RACE) $$sc -tags "$(TAGS)" ./...

# After go vet has compiled the packages, staticcheck reads them while
# the tests run (the tests mostly wait for processes, so the CPU is free);
# its report follows the tests'. -p 4: four packages' tests at a time.
test: fmt-check vet
	@sc=$$(mktemp); \
	$(MAKE) --no-print-directory staticcheck >$$sc 2>&1 & scpid=$$!; \
	echo '$(GO) test -tags "$(TAGS)" $(RACE) -count=1 -p 4 ./...'; \
	$(GO) test -tags "$(TAGS)" $(RACE) -count=1 -p 4 ./...; rc=$$?; \
	wait $$scpid; scrc=$$?; cat $$sc; rm -f $$sc; \
	[ $$rc -eq 0 ] && [ $$scrc -eq 0 ]

# Each fuzz target of each package in turn (go test -fuzz takes one target
# of one package at a time). Their seed corpora also run in make test.
# Minimising a new input is bounded, so that a slow one cannot outlast
# FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -tags "$(TAGS)" -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -tags "$(TAGS)" $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) \
				-fuzzminimizetime 10s || exit 1; \
		done; \
	done

# The long soak; go test runs only a short form of it.
soak:
	GOLM_SOAK_TIME=$(SOAK_TIME) GOLM_SOAK_CLIENTS=$(SOAK_CLIENTS) \
		$(GO) test -tags "$(TAGS)" ./commands/e2e -run '^TestSoak$$' -count=1 -v -timeout 60m

# One real binary; every command name is a symbolic link to it, so that
# argv[0] selects the command (lmstat -a is lmutil lmstat -a).
install: build
	install -d $(BINDIR) $(MANDIR) $(MAN5DIR)
	install -m 0755 lmutil $(BINDIR)/lmutil
	for a in $$(./lmutil -list-applets); do ln -sfn lmutil $(BINDIR)/$$a || exit 1; done
	install -m 0644 man/*.1 $(MANDIR)/
	install -m 0644 man/*.5 $(MAN5DIR)/
	install -d $(BASHCOMPDIR) $(ZSHCOMPDIR)
	./lmutil -completion bash > $(BASHCOMPDIR)/lmutil
	for a in $$(./lmutil -list-applets); do ln -sfn lmutil $(BASHCOMPDIR)/$$a || exit 1; done
	./lmutil -completion zsh > $(ZSHCOMPDIR)/_lmutil
	$(MAKE) install-systemd

install-systemd:
	install -d $(UNITDIR) $(SYSUSERSDIR)
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' contrib/systemd/lmgrd.service > $(UNITDIR)/lmgrd.service
	chmod 0644 $(UNITDIR)/lmgrd.service
	install -m 0644 contrib/systemd/golm.sysusers $(SYSUSERSDIR)/golm.conf

uninstall: build
	for a in lmutil $$(./lmutil -list-applets); do rm -f $(BINDIR)/$$a $(MANDIR)/$$a.1 $(BASHCOMPDIR)/$$a; done
	for p in man/*.5; do rm -f $(MAN5DIR)/$$(basename $$p); done
	rm -f $(ZSHCOMPDIR)/_lmutil $(UNITDIR)/lmgrd.service $(SYSUSERSDIR)/golm.conf

man:
	$(GO) test -tags "$(TAGS)" ./commands -run '^TestManPages$$' -count=1 -update

demo: build
	@sh scripts/demo.sh

# The suite starts lmgrd, its vendor daemon and driver processes in their
# own process groups and stops them all, even when interrupted.
BENCHFLAGS ?=
bench: build
	$(GO) build -tags "$(TAGS)" -o golm-load ./server/bench/cmd/golm-load
	./golm-load -lmutil ./lmutil -out BENCHMARKS.md $(BENCHFLAGS); status=$$?; rm -f golm-load; exit $$status

clean:
	rm -f lmutil golm-load
