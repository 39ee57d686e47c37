"""Offline AI design tools: pure functions on image bytes (Pillow + NumPy + OpenCV), deterministic.

upscale, background removal, colour extraction, smart crop, tracing to vector paths, a clipart
composer standing in for "generate", and prompt moderation. The remote providers (OpenAI-compatible,
Anthropic) live elsewhere; these are the embedded defaults and fallbacks.
"""

from luneo.ai.local._imageio import ImageInputError
from luneo.ai.local.background import BackgroundResult, remove_background
from luneo.ai.local.clipart import ClipartHit, search_clipart
from luneo.ai.local.colors import ColorShare, extract_colors
from luneo.ai.local.generate import GenerateResult, generate_design
from luneo.ai.local.moderation import ModerationResult, check_prompt
from luneo.ai.local.smart_crop import CropResult, smart_crop
from luneo.ai.local.trace import TraceResult, paths_to_svg_d, to_geometry_paths, trace_to_paths
from luneo.ai.local.upscale import UpscaleResult, upscale

__all__ = [
    "BackgroundResult",
    "ClipartHit",
    "ColorShare",
    "CropResult",
    "GenerateResult",
    "ImageInputError",
    "ModerationResult",
    "TraceResult",
    "UpscaleResult",
    "check_prompt",
    "extract_colors",
    "generate_design",
    "paths_to_svg_d",
    "remove_background",
    "search_clipart",
    "smart_crop",
    "to_geometry_paths",
    "trace_to_paths",
    "upscale",
]
