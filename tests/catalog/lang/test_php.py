from __future__ import annotations

import pytest

from hullscan.catalog.lang.php import parse_composer_lock, parse_installed_json
from hullscan.errors import CorruptContentError
from tests.catalog.lang import FIXTURES


def test_installed_json_composer_1() -> None:
    packages = parse_installed_json(
        "i.json", (FIXTURES / "php/composer_1/installed.json").read_bytes()
    )
    assert [(p.namespace, p.name, p.version, p.development) for p in packages] == [
        ("asm89", "stack-cors", "1.3.0", False),
        ("behat", "mink", "v1.8.1", False),
    ]
    assert packages[0].ecosystem == "composer"
    assert packages[0].licenses == ("MIT",)
    assert packages[0].extra["source_reference"] == "b9c31def6a83f84b4d4a40d35996d375755f0e08"


def test_installed_json_composer_2_marks_dev_packages() -> None:
    packages = parse_installed_json(
        "i.json", (FIXTURES / "php/composer_2/installed.json").read_bytes()
    )
    assert [(p.namespace, p.name, p.version, p.development) for p in packages] == [
        ("asm89", "stack-cors", "1.3.0", False),
        ("behat", "mink", "v1.8.1", True),
    ]
    assert packages[1].licenses == ("MIT",)


def test_composer_lock() -> None:
    packages = parse_composer_lock("composer.lock", (FIXTURES / "php/composer.lock").read_bytes())
    assert [(p.namespace, p.name, p.version, p.development) for p in packages] == [
        ("adoy", "fastcgi-client", "1.0.2", False),
        ("alcaeus", "mongo-php-adapter", "1.1.11", False),
        ("behat", "gherkin", "v4.6.2", True),
        ("codeception", "codeception", "4.1.6", True),
    ]
    assert packages[0].supplier == "Pierrick Charron"
    assert packages[0].licenses == ("MIT",)


@pytest.mark.parametrize("content", [b'{"packages": [', b"42", b'{"packages": {}}'])
def test_installed_json_malformed(content: bytes) -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_installed_json("vendor/composer/installed.json", content)
    assert info.value.subject == "vendor/composer/installed.json"


def test_composer_lock_malformed() -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_composer_lock("composer.lock", b'{"packages": [{"name": "a/b"}]}')
    assert info.value.subject == "composer.lock"
