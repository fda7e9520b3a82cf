#!/bin/sh
# Regenerates the committed media fixtures of the sandbox (run once at dev time; needs Debian's ffmpeg).
# The sandbox never runs ffmpeg itself: it repeats whole MPEG frames of these clips to reach any length.
set -eu
cd "$(dirname "$0")/../fixtures"

# One second of "beep, pause": 0.4 s of 440 Hz with soft edges, then silence, at a quiet level.
# $1 = sample rate, $2 = total seconds (default 1).
tone() { echo "sine=frequency=440:sample_rate=$1:duration=0.4,afade=t=in:d=0.02,afade=t=out:st=0.37:d=0.03,apad=whole_dur=${2:-1},volume=0.3"; }

# MP3, one file per ElevenLabs mp3_* format. Mono CBR, no ID3/Xing tag, and no bit reservoir
# (-reservoir 0) so that every frame decodes on its own and frames can be repeated in any order.
for f in 22050_32 24000_48 44100_32 44100_64 44100_96 44100_128 44100_192; do
  rate=${f%_*}; kbps=${f#*_}
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$(tone "$rate")" -ac 1 \
    -c:a libmp3lame -b:a "${kbps}k" -reservoir 0 -write_xing 0 -id3v2_version 0 -write_id3v1 0 \
    "tone_${f}.mp3"
done

# Opus (Ogg) for opus_* formats: served as is, whatever the text length.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$(tone 48000)" -ac 1 -c:a libopus -b:a 32k tone_48000.opus

# The "rendered video": 2 s, 320x180, H.264 + AAC, moov first (+faststart) so players start at once.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=320x180:rate=15:duration=2" -f lavfi -i "$(tone 44100 2)" \
  -c:v libx264 -preset veryslow -crf 38 -pix_fmt yuv420p -profile:v baseline \
  -c:a aac -b:a 32k -ac 1 -movflags +faststart -shortest video.mp4

# Thumbnail and GIF preview of the same picture.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=320x180:duration=1" -frames:v 1 -q:v 8 thumbnail.jpg
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=160x90:rate=5:duration=1" -loop 0 preview.gif
ls -l
