#!/usr/bin/env bash
# Installs the system programs that the media and browser tests drive (ffmpeg, GStreamer's
# gst-launch-1.0, GStreamer's RTSP server for the system Python, Debian's chromium) from Debian's apt. Needs root and apt-get; elsewhere it says
# what is missing and exits 0, and those tests skip unless ANCHORSEG_MEDIA_REQUIRED is set.
set -uo pipefail
packages=(ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good python3-gi gir1.2-gst-rtsp-server-1.0 chromium)
missing=()
for cmd in ffmpeg gst-launch-1.0 chromium; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
# test/fixtures/rtsp_server.py: the RTSP server the video source tests pull from
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null || missing+=(GstRtspServer)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup-system: ${missing[*]} not found; installing ${packages[*]} needs root and apt-get"
  exit 0
fi
log=/tmp/anchorseg-apt.log
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get install -y -q "${packages[@]}" > "$log" 2>&1 ||
  { apt-get update -q >> "$log" 2>&1 && apt-get install -y -q "${packages[@]}" >> "$log" 2>&1; }; }; then
  echo "setup-system: apt-get could not install ${packages[*]} ($(tail -1 "$log"))"
  exit 1
fi
echo "setup-system: installed ${packages[*]}"
