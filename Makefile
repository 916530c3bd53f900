# stylemint: `make demo` and `make test` each work as the first command on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SOLC_VERSION := 0.8.37

# Keep ape's data and the compiler inside the project; put the venv and npm tools on PATH.
export APE_DATA_FOLDER := $(CURDIR)/.ape
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup browser test test-fast test-contracts demo bench chain serve clean mint

setup: $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION) $(VENV)/bin/anvil .build/__local__.json browser

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# py-solc-x finds compilers as $SOLCX_BINARY_PATH/solc-v<version>: our npm solc-js wrapper.
.solcx/solc-v$(SOLC_VERSION): scripts/solc-npm.mjs
	mkdir -p .solcx
	ln -sf ../scripts/solc-npm.mjs $@

# The real anvil binary (not npm's node launcher, which would outlive a SIGKILL as an orphan).
$(VENV)/bin/anvil: node_modules/.installed $(VENV)/.installed
	ln -sf "$$(ls -d $(CURDIR)/node_modules/@foundry-rs/anvil-*/bin/anvil | head -1)" $@

# The compiled contracts: the services read the ABI from here (backend/chain/abi.py), never through
# ape. A dependency cache left in contracts/.cache would push contracts/testing/* out of ape's scan.
.build/__local__.json: contracts/*.sol contracts/testing/*.sol ape-config.yaml node_modules/.installed $(VENV)/.installed .solcx/solc-v$(SOLC_VERSION)
	# ape recompiles only changed files, not those that import them (MaliciousReceiver kept an old
	# StyleMint struct layout): every build starts from nothing.
	rm -rf contracts/.cache .build
	$(VENV)/bin/ape compile
	touch $@

# The browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup
	$(VENV)/bin/pytest

# The edit loop: unit, contract and API tests; no anvil end-to-end, no browser, no chaos, no training
# (the lanes are assigned by what a test starts: tests/conftest.py), and a fifth of each property
# test's examples (tests/support/lanes.py).
test-fast: setup
	STYLEMINT_TEST_LANE=fast $(VENV)/bin/pytest -m "not e2e and not browser and not chaos and not process and not slow"

test-contracts: setup
	$(VENV)/bin/pytest tests/contracts

demo: setup
	$(VENV)/bin/stylemint demo

bench: setup
	$(VENV)/bin/python bench/gas.py
	$(VENV)/bin/python bench/render.py
	$(VENV)/bin/python bench/model.py
	$(VENV)/bin/python bench/environment_class.py
	$(VENV)/bin/python bench/ipfs.py
	$(VENV)/bin/python bench/oracle.py
	$(VENV)/bin/python bench/verify.py
	$(VENV)/bin/python bench/web.py

serve: setup
	$(VENV)/bin/stylemint serve

chain: setup
	anvil --host 127.0.0.1 --port 8545 --chain-id 31337

clean:
	rm -rf .build contracts/.cache .ape .stylemint artifacts crytic-export

# Mint one edition from the command line, e.g. on the chain `make demo` runs (it prints this with
# its own RPC and contract): make mint RPC=http://127.0.0.1:8545 CONTRACT=0x... PROJECT=1
RPC ?= http://127.0.0.1:8545
PROJECT ?= 1
ACCOUNT ?= TEST::4
mint:
	APE_FOUNDRY_HOST=$(RPC) $(VENV)/bin/ape run mint --network ethereum:local:foundry --account $(ACCOUNT) \
		--project $(PROJECT) $(if $(CONTRACT),--contract $(CONTRACT))
