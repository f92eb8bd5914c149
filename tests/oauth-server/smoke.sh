#!/usr/bin/env bash
# Smoke test of the test authorization server: a full authorization-code + PKCE
# sign-in as Almanac would do it (loopback redirect on a random port, the
# stand-in browser), code exchange with client_secret_post, one refresh with
# rotation, revocation. Exits 0 on success; prints "FAIL: ..." otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
SERVER_PID=""
LISTENER_PID=""
cleanup() {
  [[ -n "$LISTENER_PID" ]] && kill "$LISTENER_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -s "$WORK/server.err" ]]; then
    echo "--- server stderr ---" >&2; cat "$WORK/server.err" >&2
  fi
  if [[ -s "$WORK/browser.log" ]]; then
    echo "--- browser log ---" >&2; cat "$WORK/browser.log" >&2
  fi
  exit 1
}
ok() { echo "ok: $*"; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=d.get(sys.argv[1]); print("" if v is None else v)' "$1"; }

CLIENT_ID=almanac-desktop
CLIENT_SECRET=almanac-desktop-not-secret
EMAIL=smoke.canary@example.test
SCOPE="openid email profile https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.calendarlist.readonly"

[[ -d "$HERE/node_modules/oidc-provider" ]] || (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null) \
  || fail "npm ci in $HERE"

# --- 1. start the server and read its JSON line --------------------------------
OIDC_ACCOUNT_EMAIL="$EMAIL" OIDC_ACCESS_TOKEN_TTL=600 \
  node "$HERE/server.mjs" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  [[ -s "$WORK/server.out" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited before announcing itself"
  sleep 0.1
done
[[ -s "$WORK/server.out" ]] || fail "server did not print its JSON line within 10 s"
[[ "$(wc -l <"$WORK/server.out")" -eq 1 ]] || fail "server printed more than one stdout line"
INFO="$(head -n1 "$WORK/server.out")"
ISSUER="$(json issuer <<<"$INFO")"
AUTHZ="$(json authorization_endpoint <<<"$INFO")"
TOKEN="$(json token_endpoint <<<"$INFO")"
REVOKE="$(json revocation_endpoint <<<"$INFO")"
[[ "$ISSUER" =~ ^http://127\.0\.0\.1:[0-9]+$ && -n "$AUTHZ" && -n "$TOKEN" && -n "$REVOKE" ]] \
  || fail "bad announcement: $INFO"
ok "server up: $INFO"

# --- 2. client side: PKCE, state, one-shot loopback listener --------------------
read -r VERIFIER CHALLENGE STATE < <(python3 - <<'EOF'
import base64, hashlib, secrets
v = secrets.token_urlsafe(48)
c = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
print(v, c, secrets.token_urlsafe(16))
EOF
)

cat >"$WORK/listener.py" <<'EOF'
import http.server, sys
out = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(out, "w") as f:
            f.write(self.path)
        body = b"Signed in. You can close this window.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.timeout = 30
srv.handle_request()
EOF
python3 "$WORK/listener.py" "$WORK/callback" >"$WORK/listener.port" &
LISTENER_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/listener.port" ]] && break; sleep 0.1; done
CB_PORT="$(head -n1 "$WORK/listener.port")"
[[ "$CB_PORT" =~ ^[0-9]+$ ]] || fail "listener did not start"
REDIRECT_URI="http://127.0.0.1:$CB_PORT/callback/google"
ok "loopback listener on port $CB_PORT"

authz_url() {  # extra query parameters as arguments: k=v ...
  python3 - "$AUTHZ" "$@" <<'EOF'
import sys, urllib.parse
base, *kv = sys.argv[1:]
print(base + "?" + urllib.parse.urlencode([tuple(p.split("=", 1)) for p in kv]))
EOF
}

# --- 3. PKCE is required: a request without code_challenge is refused ----------
NOPKCE_LOC="$(curl -s -o /dev/null -w '%{redirect_url}' "$(authz_url client_id=$CLIENT_ID \
  "redirect_uri=http://127.0.0.1:1/callback/google" response_type=code "scope=openid" state=x)")"
[[ "$NOPKCE_LOC" == *"error=invalid_request"* ]] || fail "authorization without PKCE was not refused: $NOPKCE_LOC"
ok "authorization request without PKCE refused (invalid_request)"

# --- 4. browser: authorize, interactions, redirect to the loopback listener ----
URL="$(authz_url client_id=$CLIENT_ID "redirect_uri=$REDIRECT_URI" response_type=code \
  "scope=$SCOPE" access_type=offline prompt=consent state="$STATE" \
  code_challenge="$CHALLENGE" code_challenge_method=S256)"
export BROWSER_LOG="$WORK/browser.log"
START=$(date +%s%N)
python3 "$HERE/browser.py" "$URL" || fail "browser.py exited non-zero"
ELAPSED_MS=$(( ($(date +%s%N) - START) / 1000000 ))
(( ELAPSED_MS < 2000 )) || fail "browser.py took ${ELAPSED_MS} ms to return (must detach)"
ok "browser.py returned in ${ELAPSED_MS} ms"
for _ in $(seq 200); do [[ -s "$WORK/callback" ]] && break; sleep 0.1; done
[[ -s "$WORK/callback" ]] || fail "no request reached the loopback listener"
wait "$LISTENER_PID" 2>/dev/null || true
LISTENER_PID=""
for _ in $(seq 50); do [[ -s "$BROWSER_LOG" ]] && break; sleep 0.1; done
grep -q "callback status=200 path=/callback/google" "$BROWSER_LOG" || fail "browser log: $(cat "$BROWSER_LOG")"
grep -q "code=" "$BROWSER_LOG" && fail "browser log leaks the query"
ok "browser log: $(cut -d' ' -f2- "$BROWSER_LOG")"

read -r CODE GOT_STATE GOT_ISS ERR < <(python3 - "$WORK/callback" <<'EOF'
import sys, urllib.parse
q = urllib.parse.parse_qs(urllib.parse.urlsplit(open(sys.argv[1]).read()).query)
g = lambda k: q.get(k, ["-"])[0]
print(g("code"), g("state"), g("iss"), g("error"))
EOF
)
[[ "$ERR" == "-" ]] || fail "authorization error: $ERR"
[[ "$GOT_STATE" == "$STATE" ]] || fail "state mismatch"
[[ "$GOT_ISS" == "$ISSUER" ]] || fail "iss mismatch: $GOT_ISS"
[[ "$CODE" != "-" ]] || fail "no code in callback"
ok "callback carried a code, the right state and iss"

# --- 5. code exchange (client_secret_post) ---------------------------------------
HTTP=$(curl -s -o "$WORK/tok1.json" -w '%{http_code}' -X POST "$TOKEN" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode "code_verifier=$VERIFIER")
[[ "$HTTP" == 200 ]] || fail "code exchange HTTP $HTTP: $(cat "$WORK/tok1.json")"
python3 - "$WORK/tok1.json" "$EMAIL" "$CLIENT_ID" "$ISSUER" <<'EOF' || fail "code exchange response"
import base64, json, sys
t = json.load(open(sys.argv[1]))
for k in ("access_token", "refresh_token", "id_token"):
    assert t.get(k), f"missing {k}"
assert t.get("token_type", "").lower() == "bearer", t.get("token_type")
assert 0 < t.get("expires_in", 0) <= 600, t.get("expires_in")
assert "https://www.googleapis.com/auth/calendar.events" in t.get("scope", "").split(), t.get("scope")
p = t["id_token"].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
assert claims.get("email") == sys.argv[2], claims.get("email")
assert claims.get("email_verified") is True, claims
assert claims.get("sub") == "canary-user", claims.get("sub")
assert claims.get("aud") == sys.argv[3] and claims.get("iss") == sys.argv[4], claims
print(f"ok: code exchange: access_token, refresh_token, id_token (email={claims['email']}), "
      f"expires_in={t['expires_in']}, scope={t['scope']!r}")
EOF
RT1="$(json refresh_token <"$WORK/tok1.json")"

# --- 6. refresh (rotation) -------------------------------------------------------
HTTP=$(curl -s -o "$WORK/tok2.json" -w '%{http_code}' -X POST "$TOKEN" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$RT1" \
  --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET")
[[ "$HTTP" == 200 ]] || fail "refresh HTTP $HTTP: $(cat "$WORK/tok2.json")"
AT2="$(json access_token <"$WORK/tok2.json")"
RT2="$(json refresh_token <"$WORK/tok2.json")"
[[ -n "$AT2" && -n "$RT2" ]] || fail "refresh response lacks tokens: $(cat "$WORK/tok2.json")"
[[ "$RT2" != "$RT1" ]] || fail "refresh token was not rotated"
ok "refresh: new access_token; refresh token rotated (${RT1:0:6}… -> ${RT2:0:6}…)"

# --- 7. revocation ---------------------------------------------------------------
HTTP=$(curl -s -o "$WORK/rev.json" -w '%{http_code}' -X POST "$REVOKE" \
  --data-urlencode "token=$RT2" --data-urlencode token_type_hint=refresh_token \
  --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET")
[[ "$HTTP" == 200 ]] || fail "revocation HTTP $HTTP: $(cat "$WORK/rev.json")"
HTTP=$(curl -s -o "$WORK/tok3.json" -w '%{http_code}' -X POST "$TOKEN" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$RT2" \
  --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET")
[[ "$HTTP" == 400 && "$(json error <"$WORK/tok3.json")" == invalid_grant ]] \
  || fail "revoked refresh token still works: HTTP $HTTP $(cat "$WORK/tok3.json")"
ok "revocation: HTTP 200; the revoked refresh token is refused (invalid_grant)"

# --- 8. the code is single-use (a replay also revokes what it issued) ----------
HTTP=$(curl -s -o "$WORK/replay.json" -w '%{http_code}' -X POST "$TOKEN" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode "code_verifier=$VERIFIER")
[[ "$HTTP" == 400 && "$(json error <"$WORK/replay.json")" == invalid_grant ]] \
  || fail "code replay not refused: HTTP $HTTP $(cat "$WORK/replay.json")"
ok "code replay refused (invalid_grant)"

# --- 9. the server's request log ---------------------------------------------------
sleep 0.2
grep -q '^token grant_type=authorization_code status=200$' "$WORK/server.err" || fail "no code-exchange log line"
grep -q '^token grant_type=refresh_token status=200$' "$WORK/server.err" || fail "no refresh log line"
grep -q '^authorization result=success ' "$WORK/server.err" || fail "no authorization log line"
for secret in "$CODE" "$RT1" "$RT2" "$AT2"; do
  grep -qF -- "$secret" "$WORK/server.err" && fail "server log leaks a code or token"
done
ok "server log (authorization and token lines):"
grep -E '^(authorization|token|interaction) ' "$WORK/server.err" | sed 's/^/    /'

kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
echo "PASS: oauth-server smoke test"
