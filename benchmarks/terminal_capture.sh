#!/usr/bin/env bash
# A 100k-article run in a tmux terminal (100x32), its screen captured every 3 s.
set -u
out=/work/scratch/cap
rm -rf /tmp/run100k $out/snap-*.txt
tmux kill-session -t cap 2>/dev/null
tmux new-session -d -s cap -x 100 -y 32 "bash --norc"
tmux send-keys -t cap "source /work/venv/bin/activate && cd /work/scratch && PS1='$ ' && clear" Enter
sleep 1
tmux send-keys -t cap "clear; dedup run news-100k.jsonl.gz --out /tmp/run100k; echo EXIT=\$?" Enter
k=0
while :; do
  sleep 3
  k=$((k+1))
  tmux capture-pane -p -t cap > $out/snap-$(printf %04d $k).txt
  if grep -q "EXIT=" $out/snap-$(printf %04d $k).txt; then break; fi
  [ $k -gt 400 ] && break
done
tmux kill-session -t cap
