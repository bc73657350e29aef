#!/usr/bin/env bash
# `make voice-model`: download Vosk's small Chinese model (vosk-model-small-cn-0.22) on a machine
# with internet, check its sha256, and unpack it into var/models/ (or VOSK_MODEL_DIR).
# On a machine without internet, copy the zip here and set VOICE_MODEL_URL=file:///path/to.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
name=vosk-model-small-cn-0.22
url="${VOICE_MODEL_URL:-https://alphacephei.com/vosk/models/$name.zip}"
sha256="${VOICE_MODEL_SHA256:-3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba}"
dest="${VOSK_MODEL_DIR:-var/models}"
if [ -d "$dest/$name" ]; then
  echo "Vosk model already present: $dest/$name"
  exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Downloading $url ..."
if ! curl -fL --retry 3 -o "$tmp/$name.zip" "$url"; then
  echo "ERROR: could not download $url (no internet here? copy the zip and set VOICE_MODEL_URL=file:///path/$name.zip)" >&2
  echo "错误：无法下载语音模型。" >&2
  exit 1
fi
actual=$(sha256sum "$tmp/$name.zip" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  echo "ERROR: checksum mismatch for $name.zip: expected $sha256, got $actual. Not installed." >&2
  echo "错误：语音模型文件校验失败，未安装。" >&2
  exit 1
fi
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp/$name.zip" "$tmp/unpacked"
if [ ! -d "$tmp/unpacked/$name" ]; then
  echo "ERROR: $name.zip does not contain the folder $name/" >&2
  exit 1
fi
mv "$tmp/unpacked/$name" "$dest/$name"
echo "Installed $dest/$name (set VOSK_MODEL_PATH to use another location)."
