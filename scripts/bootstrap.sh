#!/usr/bin/env bash
# Set up everything `make run` and `make test` need, doing only what changed:
# both virtual environments (stamped by their dependency files' hash), the Rasa
# model (stamped by the training data's hash), the database and the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

find_python311() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

find_python310() {
  local root
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    # shellcheck disable=SC2012
    local found; found=$(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && { echo "$found"; return 0; }
  fi
  command -v python3.10 2>/dev/null && return 0
  return 1
}

gateway_venv() {
  local want; want=$(hash_of pyproject.toml constraints.txt)
  if [ -x .venv/bin/python ] && [ "$(cat .venv/.deps-hash 2>/dev/null)" = "$want" ]; then return; fi
  local py; py=$(find_python311) || die "Python >= 3.11 is needed for the gateway and was not found"
  say "creating the gateway environment (.venv, $("$py" --version))"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]' -c constraints.txt
  echo "$want" > .venv/.deps-hash
}

rasa_venv() {
  local want; want=$(hash_of requirements-rasa.txt constraints-rasa.txt)
  if [ -x .venv-rasa/bin/rasa ] && [ "$(cat .venv-rasa/.deps-hash 2>/dev/null)" = "$want" ]; then return; fi
  local py; py=$(find_python310) || die "Python 3.10 is needed for Rasa 3.6 and was not found.
  Install it with pyenv (pyenv install 3.10) or your system's python3.10 package;
  the Makefile looks at \$(pyenv root)/versions/3.10.*/bin/python and python3.10."
  say "creating the Rasa environment (.venv-rasa, $("$py" --version)); this takes a few minutes"
  [ -x .venv-rasa/bin/python ] || "$py" -m venv .venv-rasa
  .venv-rasa/bin/pip install -q --upgrade pip
  .venv-rasa/bin/pip install -q -r requirements-rasa.txt -c constraints-rasa.txt
  echo "$want" > .venv-rasa/.deps-hash
}

rasa_model() {
  [ -f config.yml ] && [ -d bot/data ] || { say "no Rasa training data yet; skipping training"; return; }
  local want
  want=$(find config.yml bot/domain bot/data -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
  if [ -f models/district.tar.gz ] && [ "$(cat models/.data-hash 2>/dev/null)" = "$want" ]; then return; fi
  say "training the Rasa model (training data changed or no model yet)"
  mkdir -p models
  TF_CPP_MIN_LOG_LEVEL=2 .venv-rasa/bin/rasa train --config config.yml --domain bot/domain \
    --data bot/data --out models --fixed-model-name district --quiet
  echo "$want" > models/.data-hash
}

database() {
  say "migrating the database"
  .venv/bin/assistant db upgrade
  .venv/bin/assistant seed --demo
}

case "${1:-all}" in
  venvs) gateway_venv; rasa_venv ;;
  model) rasa_model ;;
  database) database ;;
  all) gateway_venv; rasa_venv; rasa_model; database ;;
  *) die "usage: scripts/bootstrap.sh [all|venvs|model|database]" ;;
esac
