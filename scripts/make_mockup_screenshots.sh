#!/usr/bin/env bash
# Renders each demo product's mockup with sample text through the real path (seeded demo catalog →
# spec → the preview pipeline's mockup view) into docs/screenshots/mockup-<product>.png.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export LUNEO_DATA_DIR="$data" LUNEO_LOG_JSON=false LUNEO_LOG_LEVEL=WARNING
luneo=.venv/bin/luneo
photo=src/luneo/widget/static/samples/sample-photo.jpg
$luneo db upgrade >/dev/null
$luneo seed demo >/dev/null 2>&1 || { echo "luneo seed demo failed" >&2; exit 1; }
shot() {  # product-name SKU --set …
  local name=$1 sku=$2
  shift 2
  $luneo render --product "$sku" "$@" --formats png --mockup --width 1000 --out "$data/$name" >/dev/null
  cp "$data/$name/preview.png" "docs/screenshots/mockup-$name.png"
  echo "docs/screenshots/mockup-$name.png"
}
shot pendant DEMO-PENDANT --set arc_text=Emma --set initial=E
shot mug DEMO-MUG --set "photo=@$photo" --set name=Grandma
shot tshirt DEMO-TSHIRT --set "photo=@$photo" --set "slogan=Good vibes only"
shot sign DEMO-SIGN --set "title=The Millers" --set "subtitle=Est. 2026"
shot phone DEMO-PHONE --set "photo=@$photo" --set initials=AJ
shot card DEMO-CARD --set "name=Alex Martin" --set "title=Product Designer"
