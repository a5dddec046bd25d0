# golm — build, test, install.
PREFIX ?= /usr/local
BINDIR  = $(PREFIX)/bin
MANDIR  = $(PREFIX)/share/man/man1
GO     ?= go
APPLETS = $(shell $(GO) run . -list-applets 2>/dev/null)

.PHONY: all build test vet fmt-check install man demo clean

all: build

build:
	$(GO) build -o lmutil .

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: fmt-check vet
	$(GO) test -race -count=1 ./...

install: build
	install -d $(BINDIR) $(MANDIR)
	install -m 0755 lmutil $(BINDIR)/lmutil
	for a in $$(./lmutil -list-applets); do ln -sf lmutil $(BINDIR)/$$a; done
	install -m 0644 man/*.1 $(MANDIR)/

man:
	$(GO) test ./commands -run TestManPages -update

demo: build
	@sh scripts/demo.sh

clean:
	rm -f lmutil
