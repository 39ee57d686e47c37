"""The embedded provider: the offline algorithms of `luneo.ai.local`, honestly labelled "local"."""

from __future__ import annotations

from collections.abc import Sequence

from luneo.ai import local
from luneo.ai.providers.base import EditedImage, GeneratedImage


class LocalProvider:
    """Clipart composer for "generate", Lanczos + edge-aware sharpening upscale, local cut-out."""

    name = "local"
    image_model = "clipart-composer"
    upscale_model = "lanczos-edge-sharpen"
    background_model = "border-model-grabcut"

    def generate_image(
        self, prompt: str, *, size: int = 1024, seed: int = 0, palette: Sequence[str] = ()
    ) -> GeneratedImage:
        res = local.generate_design(prompt, palette=palette, size_px=size, seed=seed)
        return GeneratedImage(
            res.png,
            "image/png",
            None,
            svg=res.svg,
            details={
                "label": res.label,
                "used_icons": list(res.used_icons),
                "monogram": res.monogram,
                "width": res.width,
                "height": res.height,
                "seed": res.seed,
            },
        )

    def upscale(self, image: bytes, factor: int, *, source_dpi: float | None = None) -> EditedImage:
        res = local.upscale(image, factor, source_dpi=source_dpi)
        return EditedImage(
            res.png,
            "image/png",
            {"factor": factor, "width": res.width, "height": res.height, "effective_dpi": res.effective_dpi},
        )

    def remove_background(self, image: bytes) -> EditedImage:
        res = local.remove_background(image)
        return EditedImage(
            res.png_rgba, "image/png", {"mask_coverage": res.mask_coverage, "method": res.method}
        )
