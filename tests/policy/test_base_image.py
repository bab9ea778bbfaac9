"""Base-image detection from history, and the explicit override."""

from __future__ import annotations

from hullscan.image.config import parse_config
from hullscan.policy.base_image import detect_base_image
from tests.policy.core_helpers import config_bytes

# A Debian-like base (one layer, CMD) and an app built on it (the classic builder's forms),
# then BuildKit's forms.
CLASSIC = [
    ("/bin/sh -c #(nop) ADD file:4b03 in / ", False),
    ('/bin/sh -c #(nop)  CMD ["bash"]', True),
    ("/bin/sh -c apt-get update && apt-get install -y curl", False),
    ("/bin/sh -c #(nop) COPY dir:abc in /app ", False),
    ('/bin/sh -c #(nop)  CMD ["/app/run"]', True),
]
BUILDKIT = [
    ("ADD rootfs.tar / # buildkit", False),
    ("RUN /bin/sh -c apk add --no-cache ca-certificates # buildkit", False),
    ('ENTRYPOINT ["/docker-entrypoint.sh"]', True),
    ('CMD ["nginx"]', True),
    ("COPY site /usr/share/nginx/html # buildkit", False),
]


def config(history):  # type: ignore[no-untyped-def]
    return parse_config(config_bytes(history, {"org.opencontainers.image.base.name":
                                               "debian:12"}), subject="t")


def test_history_boundary_classic_builder() -> None:
    base = detect_base_image(config(CLASSIC), 3)
    assert (base.layer_count, base.method, base.name) == (1, "history", "debian:12")


def test_history_boundary_buildkit() -> None:
    assert detect_base_image(config(BUILDKIT), 3).layer_count == 2


def test_trailing_cmd_alone_is_no_boundary() -> None:
    own = [("ADD rootfs.tar /", False), ("RUN make", False), ('CMD ["app"]', True)]
    base = detect_base_image(config(own), 2)
    assert base.layer_count is None and base.method == "unknown"


def test_explicit_count_wins_and_is_clamped() -> None:
    assert detect_base_image(config(CLASSIC), 3, explicit=2).layer_count == 2
    assert detect_base_image(config(CLASSIC), 3, explicit=9).layer_count == 3
    assert detect_base_image(None, 3, explicit=1).method == "--base-layers"
    assert detect_base_image(None, 3).layer_count is None
