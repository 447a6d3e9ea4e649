#!/usr/bin/env bash
# The demo behind `make demo`: start the landscape simulator on a free loopback port (HTTPS, with its own CA, which
# the demo trusts through REQUESTS_CA_BUNDLE / SSL_CERT_FILE; XSUAA's instance-secret cut-off of 2026-01-19 in
# force, so new keys are binding-secret on both routes), run playbooks/demo.yaml (the
# Cloud Foundry route) twice (the second run must change nothing: no POST, PUT, PATCH or DELETE in the simulator's
# journal), check and test the downloaded key; then the subaccount route (playbooks/acme-subaccount.yaml, twice),
# the era fleet (playbooks/tenants/*.yaml), the inventory of initech's subaccount and of the fleet; stop the
# simulator, also when a step fails.
set -euo pipefail
BIN=.venv/bin
DEMO=.demo

rm -rf "$DEMO"            # a fresh simulator issues fresh keys: start from a clean demo folder
mkdir -p "$DEMO"
"$BIN/provisioner" sim --port 0 --job-seconds 1 --info-dir "$DEMO" >"$DEMO/sim.log" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  [ -f "$DEMO/sim.env" ] && break
  kill -0 "$SIM_PID" 2>/dev/null || { echo "the simulator did not start:"; cat "$DEMO/sim.log"; exit 1; }
  sleep 0.1
done
[ -f "$DEMO/sim.env" ] || { echo "the simulator did not get ready"; exit 1; }
set -a; . "$DEMO/sim.env"; set +a
export REQUESTS_CA_BUNDLE="$SIM_CA_FILE" SSL_CERT_FILE="$SIM_CA_FILE"   # trust the simulator's own CA
echo "== landscape simulator at $SIM_URL (log: $DEMO/sim.log; its CA: $SIM_CA_FILE)"

credential_type() {  # prints a key file's uaa.credential-type; fails unless it is binding-secret
  "$BIN/python" - "$1" <<'PY'
import json, sys
kind = json.load(open(sys.argv[1]))["uaa"]["credential-type"]
print(f"   {sys.argv[1]}: uaa.credential-type {kind}")
sys.exit(0 if kind == "binding-secret" else 1)
PY
}

journal() {  # prints the requests of the simulator's journal that change state (token sign-ins excluded)
  "$BIN/python" - "$SIM_URL" "$1" <<'PY'
import json, sys, urllib.request
url, action = sys.argv[1], sys.argv[2]
if action == "clear":
    urllib.request.urlopen(urllib.request.Request(url + "/_sim/requests", method="DELETE")).read()
    sys.exit(0)
entries = json.load(urllib.request.urlopen(url + "/_sim/requests"))
writes = [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE")
          and not e["path"].endswith("/oauth/token")]
print(f"   simulator journal: {len(entries)} requests, {len(writes)} writes")
for e in writes:
    print(f"   write: {e['method']} {e['path']} -> {e['status']}")
sys.exit(1 if writes else 0)
PY
}

echo; echo "== first run: from nothing to a tested service key"
"$BIN/provisioner" run playbooks/demo.yaml

echo; echo "== second run: a converged tenant (every step unchanged, check and test passed, no writes)"
journal clear
"$BIN/provisioner" run playbooks/demo.yaml
journal check

KEY=$DEMO/keys/acme-cloudalm.json
echo; echo "== the key file: $KEY (mode $(stat -c %a "$KEY"))"
[ "$(stat -c %a "$KEY")" = 600 ] || { echo "the key file's mode is not 0600"; exit 1; }
credential_type "$KEY"
"$BIN/provisioner" key check "$KEY" --tenant acme-cloudalm
"$BIN/provisioner" key test "$KEY" --api
echo; echo "== the subaccount route (SAP's recommendation, no Cloud Foundry): playbooks/acme-subaccount.yaml"
"$BIN/provisioner" run playbooks/acme-subaccount.yaml
echo; echo "== its second run: converged (no writes)"
journal clear
"$BIN/provisioner" run playbooks/acme-subaccount.yaml
journal check
KEY=$DEMO/keys/acme-cloudalm-subaccount.json
credential_type "$KEY"
"$BIN/provisioner" key check "$KEY" --tenant acme-cloudalm
"$BIN/provisioner" key test "$KEY"

echo; echo "== a fleet: one tenant of each provisioning era, in parallel (playbooks/tenants/*.yaml)"
echo "   initech-cloudalm (2023-11-20) has no cf section and no names: its generated credentials are found"
"$BIN/provisioner" run playbooks/tenants/*.yaml --parallel 3 --report "$DEMO/report.json" --junit "$DEMO/junit.xml"
echo "   reports: $DEMO/report.json, $DEMO/junit.xml"
echo; echo "== inventory of initech's subaccount: the generated credentials and a per-system binding"
"$BIN/provisioner" inventory playbooks/tenants/initech.yaml
echo; echo "== inventory of the fleet: one table, read in parallel"
"$BIN/provisioner" inventory playbooks/tenants/*.yaml --parallel 3
echo; echo "demo done: the simulator stops now"
