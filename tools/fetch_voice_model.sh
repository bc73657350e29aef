#!/usr/bin/env bash
# `make voice-model`: download Vosk's small Chinese model (vosk-model-small-cn-0.22) on a machine
# with internet, check its sha256, and unpack it where VOSK_MODEL_PATH (.env too) points, by
# default var/models/ (VOSK_MODEL_DIR overrides the folder).
# On a machine without internet, copy the zip here and set VOICE_MODEL_URL=file:///path/to.zip.
#
# --optional (what `make run` uses): never fails. Offline, or on a bad download, it says once how
# to add the model and exits 0, so the assistant starts without voice input.
set -euo pipefail
cd "$(dirname "$0")/.."
optional=0
[ "${1:-}" = "--optional" ] && optional=1
name=vosk-model-small-cn-0.22
url="${VOICE_MODEL_URL:-https://alphacephei.com/vosk/models/$name.zip}"
sha256="${VOICE_MODEL_SHA256:-3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba}"
# Where the assistant looks (VoiceSettings reads VOSK_MODEL_PATH from the environment or .env).
target=""
if [ -x .venv/bin/python ]; then
  target=$(.venv/bin/python -c 'from voice.settings import VoiceSettings; print(VoiceSettings.from_env().vosk_model_path)' 2>/dev/null || true)
fi
target="${target:-var/models/$name}"
dest="${VOSK_MODEL_DIR:-$(dirname "$target")}"

give_up() {  # $1: what went wrong (English), $2: the same in Chinese
  if [ "$optional" = 1 ]; then
    echo "Voice input is off: $1. To add it: 'make voice-model' on a machine with internet, or copy $name.zip here and run VOICE_MODEL_URL=file:///path/to/$name.zip make voice-model (or set VOSK_MODEL_PATH). Starting without it." >&2
    echo "语音输入未开启：$2。联网后运行 make voice-model 即可添加（或把 $name.zip 复制到本机，设 VOICE_MODEL_URL=file:///路径/$name.zip 再运行）。" >&2
    exit 0
  fi
  echo "ERROR: $1." >&2
  echo "错误：$2。" >&2
  exit 1
}

if [ -f "$target/am/final.mdl" ] || [ -d "$dest/$name" ]; then
  [ "$optional" = 1 ] || echo "Vosk model already present: $( [ -d "$dest/$name" ] && echo "$dest/$name" || echo "$target")"
  exit 0
fi
if [ "$(basename "$target")" != "$name" ] && [ -z "${VOSK_MODEL_DIR:-}" ]; then
  give_up "VOSK_MODEL_PATH points at $target, which holds no Vosk model" "VOSK_MODEL_PATH 指向的 $target 里没有语音模型"
fi
command -v curl >/dev/null || give_up "curl is not installed" "没有安装 curl"
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ "$optional" = 1 ] || echo "Downloading $url ..."
if [ "$optional" = 1 ]; then
  echo "Fetching Vosk's Chinese speech model (about 42 MB, once) from $url ..." >&2
  fetched=$(curl -fsSL --connect-timeout 5 --max-time 900 -o "$tmp/$name.zip" "$url" 2>&1) || fetched="failed: $fetched"
else
  fetched=$(curl -fL --retry 3 -o "$tmp/$name.zip" "$url" 2>&1) || fetched="failed: $fetched"
fi
case "$fetched" in
  failed:*) give_up "could not download $url (no internet here?)" "无法下载语音模型（可能没有联网）" ;;
esac
actual=$(sha256sum "$tmp/$name.zip" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  give_up "checksum mismatch for $name.zip (expected $sha256, got $actual); not installed" "语音模型文件校验失败，未安装"
fi
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp/$name.zip" "$tmp/unpacked" \
  || give_up "$name.zip could not be unpacked" "语音模型文件无法解压"
if [ ! -d "$tmp/unpacked/$name" ]; then
  give_up "$name.zip does not contain the folder $name/" "语音模型文件内容不对"
fi
mv "$tmp/unpacked/$name" "$dest/$name"
echo "Installed $dest/$name: voice input is on (set VOSK_MODEL_PATH to use another location)." >&2
