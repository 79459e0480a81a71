#!/usr/bin/env bash
# A run of dedup in a tmux terminal of 100x32, its screen captured every 3 s into
# $OUT/snap-NNNN.txt (docs/terminal-100k.md shows some of them). Needs tmux and dedup on PATH.
#   python benchmarks/make_corpus.py 100000 --out news-100k.jsonl.gz
#   INPUT=news-100k.jsonl.gz OUT=/tmp/cap bash benchmarks/terminal_capture.sh
set -u
input=$(realpath "${INPUT:-news-100k.jsonl.gz}")
out=${OUT:-/tmp/cap}
mkdir -p "$out"
rm -rf /tmp/run100k $out/snap-*.txt
tmux kill-session -t cap 2>/dev/null
tmux new-session -d -s cap -x 100 -y 32 "bash --norc"
tmux send-keys -t cap "cd $(dirname "$input") && PS1='$ ' && clear" Enter
sleep 1
tmux send-keys -t cap "clear; dedup run $(basename "$input") --out /tmp/run100k; echo EXIT=\$?" Enter
k=0
while :; do
  sleep 3
  k=$((k+1))
  tmux capture-pane -p -t cap > $out/snap-$(printf %04d $k).txt
  if grep -q "EXIT=" $out/snap-$(printf %04d $k).txt; then break; fi
  [ $k -gt 400 ] && break
done
tmux kill-session -t cap
