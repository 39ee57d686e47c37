"""Writers: Scene → SVG (svg), PNG/WebP (raster), GLB (gltf), USDZ (usdz).

Import the submodule you need; each is pure and deterministic (same Scene ⇒ same bytes).
"""
