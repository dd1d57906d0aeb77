# Shofar — the two commands a new machine needs are `make run` and `make test`.
# Heavy things are cached outside the clone (rebuilt when missing):
#   $(SHOFAR_CACHE)/target   the cargo target directory
#   $(SHOFAR_CACHE)/bench    generated benchmark inputs
SHOFAR_CACHE ?= $(HOME)/.cache/shofar
export SHOFAR_CACHE
export CARGO_TARGET_DIR ?= $(SHOFAR_CACHE)/target
export SHOFAR_BENCH_DIR ?= $(SHOFAR_CACHE)/bench
CARGO ?= cargo
SHOFAR = $(CARGO_TARGET_DIR)/release/shofar

.PHONY: deb test-deb image bundle image-test image-run all build test lint unit run demo bench clean-cache help testbed-up testbed-down bench-calls bench-dialer test-api-schema bench-api bench-sync webui test-webui webui-screenshots test-units test-yocto

help:
	@echo "make run    build shofar and set up a demo box (data in var/)"
	@echo "make test   everything CI runs: format, lint, unit, property and end-to-end tests"
	@echo "make bench  the performance benchmarks (docs/benchmarks.md)"
	@echo "make bench-dialer   the dialer at 500 calls/s and 10,000 channels, simulated telephony"
	@echo "make bench-api      the HTTP API under wrk and the live socket's freshness"
	@echo "make bench-sync     1,000,000 waiting call records drained by the sync agent to a local broker and S3"
	@echo "make webui          build the web UI (Node.js) into webui/dist, embedded by the next cargo build"
	@echo "make test-webui     the web UI's Vitest tests, then end to end in headless Chromium"
	@echo "make testbed-up / testbed-down   real Asterisk + sipp on loopback (root)"
	@echo "make test-units     the systemd units: verify and hardening score <= 2.0 in a Debian forky root (root)"
	@echo "make deb            the Debian package, target/deb/shofar_VERSION_amd64.deb (README: Install on a server)"
	@echo "make test-deb       the package installed, upgraded, removed and purged with apt in a forky root (root)"
	@echo "make image          the appliance's bootable disk image, target/image/shofar.img (root)"
	@echo "make bundle         a signed update bundle of the image, target/image/shofar-VERSION.raucb (root)"
	@echo "make image-test     boots the image in qemu and checks it from the host, updates included (root; minutes)"
	@echo "make image-run      boots the image in qemu with its web UI on https://127.0.0.1:8443 (root)"
	@echo "make test-yocto     the Yocto layer without bitbake: crate list in sync, oelint-adv clean (docs/yocto.md)"

## One set of packages for every build the Makefile makes (and the README's
## commands use), so switching between them never rebuilds: a different set can
## unify dependencies' features differently and rebuild them.
PACKAGES = -p shofar -p shofar-sync -p shofar-testdata

build:
	$(CARGO) build --release --locked $(PACKAGES)

## test: what CI runs (.ci/run calls exactly this): lint, then every test with the
## testbed (real Asterisk, sipp phones) up; the testbed goes down afterwards
## whatever the result. SHOFAR_SLOW_TESTS=1 runs the slow ones too (a
## 1,000,000-row import beside a dialing `shofar serve`). Then schemathesis, the web
## UI in Chromium, the systemd units' verify and hardening scores, the Yocto
## layer's checks, the Debian package with apt, and the appliance image booted in
## qemu (updates and rollback included).
TESTBED_CONFIG = $(CURDIR)/target/testbed/shofar.toml
SHOFAR_DEBUG = $(CARGO_TARGET_DIR)/debug/shofar

test: lint
	$(MAKE) --no-print-directory fleet-tools
	$(MAKE) --no-print-directory testbed-up
	SHOFAR_TESTBED=$(TESTBED_CONFIG) SHOFAR_SLOW_TESTS=1 SHOFAR_MOSQUITTO=/usr/sbin/mosquitto SHOFAR_S3S_FS=$(SHOFAR_CACHE)/tools/s3s-fs/bin/s3s-fs $(CARGO) test --locked --workspace --no-fail-fast; \
	  status=$$?; tests/testbed/down.sh; \
	  $(MAKE) --no-print-directory test-api-schema || status=1; \
	  $(MAKE) --no-print-directory test-webui || status=1; \
	  $(MAKE) --no-print-directory test-units || status=1; \
	  $(MAKE) --no-print-directory test-yocto || status=1; \
	  $(MAKE) --no-print-directory -k test-deb image-test || status=1; exit $$status

## test-api-schema: schemathesis against a live `shofar serve --simulate` on demo
## data: no 5xx, every status, content type and body as /api/v1/openapi.json says
## (tests/api/schemathesis.sh; its venv is cached in $(SHOFAR_CACHE)).
test-api-schema:
	$(CARGO) build --locked $(PACKAGES)
	tests/api/schemathesis.sh "$(SHOFAR_DEBUG)"

## testbed-up: Debian's Asterisk in a chroot (cached in $(SHOFAR_CACHE)), configured
## by `shofar asterisk-config`; leaves target/testbed/shofar.toml.
testbed-up:
	$(CARGO) build --locked $(PACKAGES)
	tests/testbed/up.sh "$(SHOFAR_DEBUG)"

testbed-down:
	tests/testbed/down.sh

## fleet-tools: the servers the sync agent's tests start on loopback, each test its
## own (sync-agent/tests/support): mosquitto and openssl from apt, s3s-fs 0.14.1
## with cargo install into $(SHOFAR_CACHE)/tools (about 4-7 min once, then instant).
fleet-tools:
	tests/testbed/fleet-tools.sh

## bench-calls: concurrent real calls on the testbed (after make testbed-up):
## CALLS placed at once, answered by sipp, held HOLD seconds.
CALLS ?= 200
HOLD ?= 30
bench-calls:
	$(CARGO) build --locked --release -p shofar --example concurrent_calls
	$(CARGO_TARGET_DIR)/release/examples/concurrent_calls $(TESTBED_CONFIG) $(CALLS) $(HOLD)

## bench-dialer: the real dialer against the simulated telephone network at the
## box's limits (500 calls/s, 10,000 channels, 60 s measured after the ramp-up);
## prints one JSON line and adds a dated row to docs/benchmarks.md. Other flags
## (--seconds, --talk, --cps, --channels, ... see --help) through DIALER_BENCH_ARGS.
DIALER_BENCH_ARGS ?=
bench-dialer:
	$(CARGO) run --release --locked -p shofar-dialer --example load -- --record $(DIALER_BENCH_ARGS)

## bench-api: the HTTP API under wrk (50 connections, 30 s a route) and the live
## socket's freshness, on a release build dialing the demo campaign on the
## simulator; prints one JSON line (docs/benchmarks.md, "HTTP API and live figures").
bench-api:
	$(CARGO) build --release --locked $(PACKAGES)
	$(CARGO) build --release --locked -p shofar-web --example live_freshness
	tests/api/bench.sh "$(SHOFAR)" "$(CARGO_TARGET_DIR)/release/examples/live_freshness"

## bench-sync: 1,000,000 ended call records waiting on a box, drained by the release
## sync agent to mosquitto and s3s-fs on loopback (the fleet tests' servers), with
## unlimited publishing; the agent's CPU and peak memory, and an opt-out's way to a
## second box meanwhile. Prints a table and one JSON line (docs/benchmarks.md,
## "Sync"). The database is made once into $(SHOFAR_BENCH_DIR) (~5 min). Flags
## through SYNC_BENCH_ARGS, e.g. --aws-defaults (the [sync] defaults' rate limits).
SYNC_BENCH_ARGS ?=
bench-sync: fleet-tools
	$(CARGO) build --release --locked -p shofar -p shofar-sync --bins --example sync_bench
	SHOFAR_MOSQUITTO=/usr/sbin/mosquitto SHOFAR_S3S_FS=$(SHOFAR_CACHE)/tools/s3s-fs/bin/s3s-fs \
	  $(CARGO_TARGET_DIR)/release/examples/sync_bench $(SYNC_BENCH_ARGS)

## test-units: the systemd units in systemd/ checked inside a Debian forky root
## (the image's systemd): sysusers/tmpfiles apply, `systemd-analyze verify` is
## clean, every service scores <= 2.0 on `systemd-analyze security`. The root is
## cached in $(SHOFAR_CACHE) (about 50-100 s once, then 3-13 s). Needs root.
test-units:
	tests/image/units.sh

## deb: the Debian package of a release build with the web UI in it
## (appliance/debian/build.sh): the binaries (shofar, and shofar-sync from beside
## it), units, sysusers/tmpfiles, maintainer scripts.
DEB_DIR = $(CURDIR)/target/deb
deb: webui
	$(MAKE) --no-print-directory build
	appliance/debian/build.sh "$(SHOFAR)"

## test-deb: install, upgrade, remove and purge the package with apt in a Debian
## forky root with Asterisk (tests/image/deb.sh; the root is test-units' cached one).
test-deb: deb
	tests/image/deb.sh "$(SHOFAR)"

## image: the appliance's disk image (appliance/image/build.sh): GPT with an ESP,
## root slots A and B (read-only), and a data partition. The Debian root without
## Shofar is cached in $(SHOFAR_CACHE) (a few minutes once); a build takes about a
## minute. RAUC_KEYRING: the CA whose bundles the image installs (default: the
## development CA in appliance/image/rauc).
image: deb
	appliance/image/build.sh "$(DEB_DIR)/shofar_$$(appliance/debian/build.sh --version)_$$(dpkg --print-architecture).deb"

## bundle: a signed RAUC update bundle of the image's root (appliance/image/bundle.sh),
## target/image/shofar-VERSION.raucb; RAUC_CERT/RAUC_KEY sign it (default: the
## development pair in appliance/image/rauc, which only development images trust).
bundle: image
	appliance/image/bundle.sh

## image-test: boots the image in qemu (TCG, network only through forwarded loopback
## ports) and checks it from the host (tests/image/boot.sh); minutes, not seconds.
image-test: image
	tests/image/boot.sh test

## image-run: boots the image in qemu for a person to try: the web UI on
## https://127.0.0.1:8443, the console on this terminal (Ctrl-A X quits).
image-run:
	tests/image/boot.sh run
## test-yocto: the Yocto layer (yocto/meta-shofar) checked without bitbake:
## shofar-crates.inc in sync with Cargo.lock, the facts it repeats from the tree,
## grub.cfg's syntax, oelint-adv clean (yocto/check.sh; its venv is cached in
## $(SHOFAR_CACHE): 20-30 s once, then 3-5 s).
test-yocto:
	yocto/check.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace --no-fail-fast

## run: a box with demo data, serving the web UI (built first) and the API.
run: webui
	$(MAKE) --no-print-directory build
	@tests/demo.sh "$(SHOFAR)"

## webui: the web UI (webui/, TypeScript, React, Vite) built into webui/dist, which
## the next cargo build embeds in shofar (appliance/web/src/ui.rs). npm ci runs from
## package-lock.json only when it changed; npm's cache is $(SHOFAR_CACHE)/npm.
## Without it, shofar still builds and `/` says how to build the UI.
webui:
	webui/scripts/build.sh

## test-webui: the web UI's unit and component tests (Vitest), then end to end in
## headless Chromium (Debian's; installed with apt-get when missing) against a
## freshly built `shofar serve --simulate`, in Hebrew and in English (webui/e2e/run.mjs).
## Screenshots of every page land in target/webui/screenshots.
test-webui: webui
	cd webui && npx vitest run
	$(CARGO) build --locked $(PACKAGES)
	webui/scripts/ensure-chromium.sh
	cd webui && SHOFAR_BIN="$(SHOFAR_DEBUG)" node e2e/run.mjs

## webui-screenshots: the end-to-end run, saving its screenshots over the ones
## docs/webui.md shows (docs/screenshots/he, docs/screenshots/en).
webui-screenshots: webui
	$(CARGO) build --locked $(PACKAGES)
	webui/scripts/ensure-chromium.sh
	cd webui && SHOFAR_BIN="$(SHOFAR_DEBUG)" SCREENSHOTS="$(CURDIR)/docs/screenshots" node e2e/run.mjs

## bench: 1,000,000-row import, 10,000,000-number do-not-call list, and choosing
## the next contacts from 1,000,000 and across 21 campaigns.
bench:
	$(CARGO) bench --locked -p shofar-import --bench import
	$(CARGO) bench --locked -p shofar-import --bench blacklist
	$(CARGO) bench --locked -p shofar-scheduler --bench dispatch

clean-cache:
	rm -rf "$(SHOFAR_CACHE)"
