#!/usr/bin/env bash
# `make demo`: a hub on its embedded store, a checkpoint replaying the sample gantry
# clip, and the incidents on the tablet page. The hub keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release}
PORT=${KADIAN_DEMO_PORT:-8080}
HUB_URL="http://127.0.0.1:$PORT"
WORK=${KADIAN_DEMO_DIR:-target/demo}
USER_NAME=demo
PASSWORD=kadian-demo
COUNTY=滦平县
CP_ID=luanping-01

rm -rf "$WORK" && mkdir -p "$WORK"

# Accounts first: the admin commands open the store directly, before the server holds it.
printf '%s\n' "$PASSWORD" | "$BIN/hub" user add --data "$WORK/hub" --name "$USER_NAME" --role admin --county "$COUNTY" --password-stdin >/dev/null
TOKEN=$("$BIN/hub" checkpoint add --data "$WORK/hub" --id "$CP_ID" --name "滦平 G228 卡点" --county "$COUNTY" | tail -n 1 | awk '{print $NF}')

"$BIN/hub" serve --data "$WORK/hub" --listen "127.0.0.1:$PORT" >"$WORK/hub.log" 2>&1 &
HUB_PID=$!
CP_PID=
cleanup() {
  [ -n "$CP_PID" ] && kill "$CP_PID" 2>/dev/null || true
  kill "$HUB_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 50); do curl -fsS "$HUB_URL/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$HUB_URL/healthz" >/dev/null || { echo "hub did not start; see $WORK/hub.log"; exit 1; }

cat >"$WORK/checkpoint.toml" <<TOML
checkpoint_id = "$CP_ID"
hub_url = "$HUB_URL"
data_dir = "$WORK/checkpoint"
listen = "127.0.0.1:0"

[models]
plate_reader = "models/onnx/plate_reader.onnx"
plate_detector = "models/onnx/plate_detector.onnx"
cargo_classifier = "models/onnx/cargo_classifier.onnx"

[[cameras]]
name = "gantry"
source = "demo/sample-gantry.mp4"
lane = 1
direction = "inbound"
replay_fps = 5
TOML

echo "checkpoint $CP_ID replaying demo/sample-gantry.mp4 ..."
KADIAN_TOKEN="$TOKEN" "$BIN/checkpoint" run --config "$WORK/checkpoint.toml" >"$WORK/checkpoint.log" 2>&1 &
CP_PID=$!

# The clip lasts about 20 s at 5 fps; then wait for the outbox to drain into the hub.
login() { curl -fsS -H 'content-type: application/json' -d "{\"name\":\"$USER_NAME\",\"password\":\"$PASSWORD\"}" "$HUB_URL/api/v1/login" | jq -r .token; }
SESSION=$(login)
last=-1; stable=0
for t in $(seq 120); do
  sleep 1
  n=$(curl -fsS -H "authorization: Bearer $SESSION" "$HUB_URL/api/v1/incidents?limit=200" | jq '.items | length')
  if [ "$n" = "$last" ]; then stable=$((stable + 1)); else stable=0; last=$n; fi
  kill -0 "$CP_PID" 2>/dev/null || break
  [ "$t" -ge 25 ] && [ "$stable" -ge 5 ] && break
done
kill "$CP_PID" 2>/dev/null || true; wait "$CP_PID" 2>/dev/null || true; CP_PID=

echo
echo "Incidents in the hub:"
curl -fsS -H "authorization: Bearer $SESSION" "$HUB_URL/api/v1/incidents?limit=200" \
  | jq -r '.items[] | "  \(.created_at)  \(.kind)  \(.severity)  \(.plate // "无车牌")  \(.checkpoint_id)"'
echo
echo "Passages of those plates:"
for p in $(curl -fsS -H "authorization: Bearer $SESSION" "$HUB_URL/api/v1/incidents?limit=200" | jq -r '.items[].plate // empty' | sort -u); do
  curl -fsS -G -H "authorization: Bearer $SESSION" --data-urlencode "reason=demo" "$HUB_URL/api/v1/plates/$(jq -rn --arg p "$p" '$p|@uri')/passages" \
    | jq -r '.passages[] | "  \(.seen_at)  \(.plate.text // "无车牌") \(.plate.color // "")  cargo: \(.cargo.cover // "-")/\(.cargo.material // "-")"'
done
echo
echo "Tablet page: $HUB_URL/   log in as '$USER_NAME' with password '$PASSWORD'"
echo "Logs: $WORK/hub.log, $WORK/checkpoint.log.  Ctrl-C stops the hub."
wait "$HUB_PID"
