"""Go modules: ``go.mod`` (binary build-info is read elsewhere).

The main module (``module`` directive) is the project itself and is not reported. Every
``require`` (single-line and block forms) becomes a package; ``// indirect`` sets
``extra["indirect"] = "true"``. ``replace`` directives are applied: a replacement by another
module changes the path and version (the original goes to ``extra["replaces"]``); a
replacement by a local directory (``./x``, ``../x``, ``/x``) drops the requirement, since
the code used is not the published module.

Following the Package URL convention, the module path is split at its last ``/``:
``github.com/gorilla/mux`` gives namespace ``github.com/gorilla`` and name ``mux``. The full
path is kept in ``extra["module"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.catalog.lang import decode_text
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "golang"


@dataclass
class _Requirement:
    module: str
    version: str
    indirect: bool


def _fields(line: str) -> list[str]:
    return [field.strip('"`') for field in line.split()]


def _is_local(target: str) -> bool:
    return target.startswith(("./", "../", "/")) or target in (".", "..")


def parse_go_mod(path: str, content: bytes) -> list[FoundPackage]:
    """Required modules of a ``go.mod``, with ``replace`` directives applied."""
    text = decode_text(path, content)
    requirements: list[_Requirement] = []
    replacements: list[tuple[str, str | None, str, str | None]] = []
    block: str | None = None
    saw_module = False
    for number, raw in enumerate(text.splitlines(), 1):
        code, _, comment = raw.partition("//")
        line = code.strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
                continue
            statement, words = block, _fields(line)
        else:
            words = _fields(line)
            statement = words[0]
            if len(words) == 2 and words[1] == "(":
                block = statement
                continue
            words = words[1:]
        if statement == "module":
            saw_module = True
        elif statement == "require":
            if len(words) != 2:
                raise CorruptContentError(f"line {number}: malformed require", subject=path)
            indirect = comment.strip().split(";")[0].strip() == "indirect"
            requirements.append(_Requirement(words[0], words[1], indirect))
        elif statement == "replace":
            if "=>" not in words:
                raise CorruptContentError(f"line {number}: malformed replace", subject=path)
            arrow = words.index("=>")
            old, new = words[:arrow], words[arrow + 1 :]
            if len(old) not in (1, 2) or len(new) not in (1, 2):
                raise CorruptContentError(f"line {number}: malformed replace", subject=path)
            replacements.append(
                (
                    old[0],
                    old[1] if len(old) == 2 else None,
                    new[0],
                    new[1] if len(new) == 2 else None,
                )
            )
    if block is not None:
        raise CorruptContentError(f"unterminated {block} block", subject=path)
    if not saw_module and not requirements:
        raise CorruptContentError("no module directive: not a go.mod", subject=path)
    packages: list[FoundPackage] = []
    for requirement in requirements:
        module, version = requirement.module, requirement.version
        extra = {"module": module}
        dropped = False
        for from_path, from_version, to_path, to_version in replacements:
            if from_path != requirement.module or from_version not in (None, requirement.version):
                continue
            if _is_local(to_path) or to_version is None:
                dropped = True
            else:
                module, version = to_path, to_version
                extra = {"module": module, "replaces": f"{from_path} {requirement.version}"}
        if dropped:
            continue
        if requirement.indirect:
            extra["indirect"] = "true"
        namespace, _, name = module.rpartition("/")
        packages.append(
            FoundPackage(
                name=name,
                version=version,
                ecosystem=_ECOSYSTEM,
                path=path,
                namespace=namespace or None,
                extra=extra,
            )
        )
    return packages
