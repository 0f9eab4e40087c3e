#!/usr/bin/env bash
# Fetch the JavaScript the site needs (MathJax 3, require.js, the Jupyter widget manager)
# from the npm registry with `npm pack`, and unpack only the files the site serves into
# DEST (default _vendor/). _config.yml lists DEST in html_static_path, so the files end up
# in _build/html/_static/ and the built site makes no request to any other host.
# DEST is deliberately not named `_static`: Jupyter Book adds every .js file of a source
# folder called `_static` to every page.
set -euo pipefail
dest=${1:-_vendor}
mathjax=${2:?mathjax version}
requirejs=${3:?requirejs version}
manager=${4:?html-manager version}

command -v npm >/dev/null || { echo "npm is needed to fetch the site's offline JavaScript (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$dest"
mkdir -p "$dest"

fetch() {  # fetch <package@version> <unpack-dir>
  (cd "$tmp" && npm pack --silent "$1" > "$2.name")
  mkdir -p "$tmp/$2"
  tar -xzf "$tmp/$(cat "$tmp/$2.name")" -C "$tmp/$2"
}

fetch "mathjax@$mathjax" mathjax
fetch "requirejs@$requirejs" requirejs
fetch "@jupyter-widgets/html-manager@$manager" manager

# MathJax: the combined TeX/MathML -> CommonHTML component, its on-demand extensions,
# and the CHTML web fonts (the component loads them relative to its own location).
mkdir -p "$dest/mathjax"
cp -r "$tmp/mathjax/package/es5/." "$dest/mathjax/"
rm -rf "$dest/mathjax/output/svg" "$dest/mathjax/sre" "$dest/mathjax/"*svg*.js
cp "$tmp/mathjax/package/LICENSE" "$dest/mathjax/LICENSE"

mkdir -p "$dest/requirejs"
cp "$tmp/requirejs/package/require.js" "$dest/requirejs/require.js"
cp "$tmp/requirejs/package/LICENSE" "$dest/requirejs/LICENSE" 2>/dev/null || true

mkdir -p "$dest/html-manager"
cp "$tmp/manager/package/dist/embed-amd.js" "$dest/html-manager/embed-amd.js"
cp "$tmp/manager/package/LICENSE" "$dest/html-manager/LICENSE" 2>/dev/null || true

du -sh "$dest"
