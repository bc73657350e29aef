#!/usr/bin/env bash
# Debian packages the assistant needs beside Python: espeak-ng (speech synthesis through
# pyttsx3, voice cmn-latn-pinyin) and ffmpeg (decoding residents' voice messages); for the
# tests, chromium and chromium-driver (the web chat's browser tests), npm (axe-core) and a
# Chinese font for readable screenshots; sip-tester (SIPp) and baresip, the real SIP peers of the
# phone line's tests and bench; haproxy, the load balancer of `make run-cluster`.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v npm >/dev/null || missing+=(npm)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
command -v sipp >/dev/null || missing+=(sip-tester)
command -v baresip >/dev/null || missing+=(baresip)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "ERROR: missing system packages: ${missing[*]}" >&2
  echo "  Install them, e.g.: sudo apt-get install ${missing[*]}" >&2
  echo "错误：缺少系统软件包 ${missing[*]}，请先安装。" >&2
  exit 1
fi
