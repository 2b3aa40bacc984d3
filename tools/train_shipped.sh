#!/usr/bin/env bash
# The exact commands that trained the shipped styles (src/steadystyle/styles/).
# Usage: tools/train_shipped.sh LANE   (LANE a or b: two lanes run side by side, one CPU thread each)
# Every run is resumable: re-running the same lane continues from each model's checkpoint.
set -euo pipefail
S=${SHARED:-../shared/data}
OUT=${OUT:-runs/shipped}
mkdir -p "$OUT"
CONTENT="$S/content/pixabay_portraits $S/content/bsds500 $S/content/coco_train2014_100_224px"
common="--content $CONTENT --image-size 128 --style-size 256 --batch-size 4 --amp --threads 1 --quiet --resume --checkpoint-every 50"

light() {  # name painting iterations
  steadystyle train --style-image "$S/styles/$2" -o "$OUT/$1.safetensors" --name "$1" --variant light --iterations "$3" $common
}
full() {
  steadystyle train --style-image "$S/styles/$2" -o "$OUT/$1.safetensors" --name "$1" --variant full --iterations "$3" $common
}

case "${1:-a}" in
  a)
    light scream munch_the_scream.jpg 1200
    light udnie picabia_udnie.jpg 1200
    light starry-night vangogh_starry_night.jpg 1200
    ;;
  b)
    light great-wave hokusai_great_wave.jpg 1200
    light composition-vii kandinsky_composition_vii.jpg 1200
    light woman-with-a-hat matisse_woman_with_a_hat.jpg 1200
    ;;
  d)
    light shipwreck turner_shipwreck_of_the_minotaur.jpg 1200
    ;;
  c)
    full scream-full munch_the_scream.jpg 1000
    ;;
  temporal)  # C-FDB fine-tuning of the light Scream, and a control with the same extra iterations, no temporal loss
    mkdir -p runs/temporal
    steadystyle train --style-image "$S/styles/munch_the_scream.jpg" --init "$OUT/scream.safetensors" \
      -o runs/temporal/scream-cfdb.safetensors --name scream --temporal c-fdb --lr 1e-4 --iterations 300 $common
    steadystyle train --style-image "$S/styles/munch_the_scream.jpg" --init "$OUT/scream.safetensors" \
      -o runs/temporal/scream-control.safetensors --name scream --lr 1e-4 --iterations 300 $common
    ;;
esac
