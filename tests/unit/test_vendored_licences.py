"""The widget's vendored browser code carries, for each package in it, that package's own licence
text (unmodified, from its npm tarball) in a file named with the package's version."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "src" / "luneo" / "widget" / "static" / "vendor"
BUNDLE = VENDOR / "model-viewer-4.4.0.min.js"

# package → (version as the file names it, licence file, sha256 of the upstream `package/LICENSE`,
# a line the licence must contain). Hashes taken from `npm pack <package>@<version>`.
PACKAGES = {
    "@google/model-viewer": (
        "4.4.0",
        "LICENSE-model-viewer-4.4.0.txt",
        "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30",
        "Apache License",
    ),
    "three": (
        "r183",
        "LICENSE-three-r183.txt",
        "8b378ebe60e2fe500158cb0ac71cb5e8b7d92953c2abcc63a0eb90499653b5bc",
        "Copyright © 2010-2026 three.js authors",
    ),
    "lit-html": (
        "3.3.3",
        "LICENSE-lit-html-3.3.3.txt",
        "2b66f9390afde29edfe4314daff93f01fb182e1178053e228120178987e5db75",
        "BSD 3-Clause License",
    ),
    "lit-element": (
        "4.2.2",
        "LICENSE-lit-element-4.2.2.txt",
        "45d31799d0db956cc3eb5469346abbd9b7025babc5ff29fab10d7095da992ef1",
        "BSD 3-Clause License",
    ),
    "@lit/reactive-element": (
        "2.1.2",
        "LICENSE-reactive-element-2.1.2.txt",
        "45d31799d0db956cc3eb5469346abbd9b7025babc5ff29fab10d7095da992ef1",
        "BSD 3-Clause License",
    ),
    "@monogrid/gainmap-js": (
        "3.x",
        "LICENSE-gainmap-js-3.x.txt",
        "7fb8f722609c6669a9c9a4865e2a86205c7760e7dc7a039b0fb9913c3e62c6cc",
        "Copyright (c) 2023 MONOGRID",
    ),
}


def test_every_vendored_package_has_its_upstream_licence_named_with_its_version() -> None:
    readme = (VENDOR / "README.md").read_text()
    for package, (version, name, sha256, line) in PACKAGES.items():
        path = VENDOR / name
        assert path.is_file(), (package, name)
        assert version in name and name.startswith("LICENSE-"), name
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256, f"{name} is not the upstream text of {package}"
        assert line in data.decode(), (name, line)
        assert f"`{package}` | {version}" in readme and f"`{name}`" in readme, package
    # nothing else: no licence file without a package, no hand-written leftovers
    assert {p.name for p in VENDOR.glob("LICENSE*")} == {v[1] for v in PACKAGES.values()}


def test_the_bundle_is_the_versions_the_licences_name() -> None:
    js = BUNDLE.read_text()
    assert hashlib.sha256(js.encode()).hexdigest() == (
        "18b2e711035aa4705ee281530a55dc2338ff05eed3d70ae16d54105282a75ed5"
    )
    assert "Copyright 2010-2026 Three.js Authors" in js and re.search(r'="183"', js)
    registered = set(re.findall(r'push\("(\d+\.\d+\.\d+)"\)', js))  # Lit's version registries
    assert {"3.3.3", "4.2.2", "2.1.2"} <= registered
    assert "gainmap" in js
