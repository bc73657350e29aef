#!/usr/bin/env bash
# Creates (or reuses) the project's Python 3.10 virtual environment and links it as ./.venv.
#
# Installing rasa takes minutes and ~2.7 GB, so environments are kept in a shared cache
# ($SQA_VENV_CACHE, default ~/.cache/community-assistant/venvs), keyed by the hash of
# requirements.txt + requirements.lock. A second checkout (or a CI clone) on the same machine
# links the existing environment and starts in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 /root/.pyenv/versions/3.10.13/bin/python3.10 \
      "$HOME/.pyenv/versions/3.10.13/bin/python3.10" /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      command -v "$candidate" || echo "$candidate"
      return 0
    fi
  done
  return 1
}

hash=$(cat requirements.txt requirements.lock | sha256sum | cut -c1-16)
stamp=".sqa-env-$hash"

# An existing .venv (a real directory or a symlink) that already matches is used as it is.
if [ -x .venv/bin/python ] && [ -f ".venv/$stamp" ]; then
  exit 0
fi

if ! py=$(find_python); then
  cat >&2 <<'MSG'
ERROR: Python 3.10 was not found (rasa 3.6 needs exactly Python 3.10).
  Install it, for example:  pyenv install 3.10.13
  or on Debian/Ubuntu:      apt-get install python3.10 python3.10-venv
  or point PYTHON310=/path/to/python3.10 at an existing interpreter.
错误：没有找到 Python 3.10。请先安装 Python 3.10（见上面的说明）。
MSG
  exit 1
fi

cache="${SQA_VENV_CACHE:-$HOME/.cache/community-assistant/venvs}"
target="$cache/$hash"
mkdir -p "$cache"

if [ ! -f "$target/$stamp" ]; then
  # One installer at a time per environment (two checkouts may start together).
  exec 9>"$cache/$hash.lock"
  flock 9
  if [ ! -f "$target/$stamp" ]; then
    echo "Creating the Python environment in $target (first time: about 4 minutes)..."
    rm -rf "$target"
    "$py" -m venv "$target"
    "$target/bin/python" -m pip install --quiet --upgrade 'pip<25' 'setuptools<70' wheel
    "$target/bin/python" -m pip install --quiet -r requirements.txt -c requirements.lock
    "$target/bin/python" -m pip check
    touch "$target/$stamp"
  fi
fi

if [ -L .venv ] || [ ! -e .venv ]; then
  ln -sfn "$target" .venv
else
  echo "ERROR: ./.venv exists but is not the environment for these requirements." >&2
  echo "       Remove it (rm -rf .venv) and run make again." >&2
  exit 1
fi
echo "Using Python environment $(readlink -f .venv)"
