"""Cloudinary upscale (`e_upscale`) and background removal (`e_background_removal`) over httpx.

The image is sent to the signed Upload API (`POST /v1_1/<cloud>/image/upload`) with the effect as
an incoming transformation; the stored, transformed image is then downloaded from the answer's
`secure_url` (only from a Cloudinary host or the configured API host: never an arbitrary URL).
Signature: SHA-1 of the sorted `key=value` parameters joined by `&` followed by the API secret
(`file`, `api_key`, `cloud_name` and `resource_type` are not signed), as Cloudinary documents.
Credentials come from `cloudinary://<api_key>:<api_secret>@<cloud_name>`.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx
from PIL import Image

from luneo.ai.providers.base import EditedImage, ProviderError
from luneo.platform import http as outgoing

MAX_RESULT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CloudinaryCredentials:
    cloud_name: str
    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"CloudinaryCredentials(cloud_name={self.cloud_name!r})"


def parse_cloudinary_url(url: str) -> CloudinaryCredentials:
    """`cloudinary://key:secret@cloud` → credentials (ValueError without echoing the secret)."""
    parts = urlsplit(url)
    if parts.scheme != "cloudinary" or not parts.hostname or not parts.username or not parts.password:
        raise ValueError(
            "LUNEO_CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>"
        )
    return CloudinaryCredentials(parts.hostname, unquote(parts.username), unquote(parts.password))


def sign(params: dict[str, str], api_secret: str) -> str:
    """Cloudinary's request signature (SHA-1 hex)."""
    skip = {"file", "api_key", "cloud_name", "resource_type", "signature"}
    to_sign = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip and v != "")
    return hashlib.sha1((to_sign + api_secret).encode()).hexdigest()


class CloudinaryProvider:
    """Upscale and background removal through Cloudinary's Upload API."""

    name = "cloudinary"
    upscale_model = "e_upscale"
    background_model = "e_background_removal"

    def __init__(
        self,
        credentials: CloudinaryCredentials,
        *,
        api_base: str = "https://api.cloudinary.com",
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._cred = credentials
        self._api_base = api_base.rstrip("/")
        self._client = outgoing.client(timeout=timeout_s, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"CloudinaryProvider(cloud={self._cred.cloud_name!r})"

    def _allowed_result_host(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        api_host = (urlsplit(self._api_base).hostname or "").lower()
        return host == api_host or host == "cloudinary.com" or host.endswith(".cloudinary.com")

    def _transform(self, image: bytes, transformation: str, fmt: str = "png") -> bytes:
        params = {"timestamp": str(int(time.time())), "transformation": transformation, "format": fmt}
        params["signature"] = sign(params, self._cred.api_secret)
        params["api_key"] = self._cred.api_key
        url = f"{self._api_base}/v1_1/{self._cred.cloud_name}/image/upload"
        try:
            resp = self._client.post(
                url, data=params, files={"file": ("image", image, "application/octet-stream")}
            )
        except httpx.TimeoutException:
            raise ProviderError(self.name, "request timed out", retryable=True) from None
        except httpx.HTTPError:
            raise ProviderError(self.name, "connection failed", retryable=True) from None
        if resp.status_code != 200:
            raise ProviderError(
                self.name,
                "upload failed",
                status=resp.status_code,
                retryable=resp.status_code >= 500 or resp.status_code in (420, 429),
            )
        try:
            secure_url = str(resp.json()["secure_url"])
        except (ValueError, KeyError, TypeError):
            raise ProviderError(
                self.name, "the upload answer has no secure_url", code="invalid_answer"
            ) from None
        if not self._allowed_result_host(secure_url):
            raise ProviderError(self.name, "the result URL is not a Cloudinary URL", code="invalid_answer")
        try:
            got = self._client.get(secure_url)
        except httpx.HTTPError:
            raise ProviderError(self.name, "download failed", retryable=True) from None
        if got.status_code != 200:
            raise ProviderError(
                self.name,
                "download failed",
                status=got.status_code,
                retryable=got.status_code >= 500 or got.status_code == 423,
            )
        if len(got.content) > MAX_RESULT_BYTES:
            raise ProviderError(self.name, "the result is too large", code="too_large")
        return got.content

    def upscale(self, image: bytes, factor: int, *, source_dpi: float | None = None) -> EditedImage:
        with Image.open(io.BytesIO(image)) as img:
            width = img.width
        target = width * factor
        data = self._transform(image, f"e_upscale/c_scale,w_{target}")
        details: dict[str, object] = {"factor": factor}
        if source_dpi:
            details["effective_dpi"] = source_dpi * factor
        return EditedImage(data, "image/png", details)

    def remove_background(self, image: bytes) -> EditedImage:
        return EditedImage(self._transform(image, "e_background_removal"), "image/png", {})
