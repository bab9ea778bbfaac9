"""The config rules: each one self-describing, with a function over the image's context."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from hullscan.catalog.package import LayerRef
from hullscan.checks.config.steps import Step
from hullscan.image.config import ImageConfig
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import FileKind
from hullscan.image.model import ImageMetadata
from hullscan.vuln.severity import Severity

SENSITIVE_PORTS: dict[int, str] = {
    21: "FTP", 22: "SSH", 23: "Telnet", 111: "rpcbind", 135: "MS RPC", 445: "SMB",
    2375: "Docker API (plain)", 2376: "Docker API (TLS)", 2379: "etcd", 3389: "RDP",
    5900: "VNC", 5985: "WinRM", 6379: "Redis", 10250: "kubelet", 11211: "memcached",
    27017: "MongoDB",
}
"""Ports whose exposure usually means remote administration or an unauthenticated service."""

PACKAGE_CACHES: tuple[tuple[str, str], ...] = (
    (r"var/cache/apt/archives/[^/]+\.deb", "var/cache/apt/archives"),
    (r"var/lib/apt/lists/(?!lock$|partial$|auxfiles$)[^/]+", "var/lib/apt/lists"),
    (r"var/cache/apk/[^/]+", "var/cache/apk"),
    (r"var/cache/(?:yum|dnf)/.+", "var/cache/yum-dnf"),
    (r"(?:root|home/[^/]+)/\.cache/pip/.+", "~/.cache/pip"),
    (r"(?:root|home/[^/]+)/\.npm/_cacache/.+", "~/.npm"),
    (r"(?:root|home/[^/]+)/\.cache/yarn/.+|usr/local/share/\.cache/yarn/.+", "yarn cache"),
    (r"(?:root|home/[^/]+)/\.cache/go-build/.+", "~/.cache/go-build"),
    (r"(?:root|home/[^/]+)/\.cargo/registry/cache/.+", "~/.cargo/registry/cache"),
)
"""(regular-file path pattern, cache name) of package-manager caches."""


@dataclass(frozen=True)
class Thresholds:
    """Limits of the size rules (``None`` turns a rule off)."""

    max_image_bytes: int | None = 1024 ** 3
    """Stored (compressed) size of all layers."""
    max_layers: int | None = 50


@dataclass(frozen=True)
class ConfigContext:
    """What the rules look at."""

    image: ImageMetadata
    config: ImageConfig | None
    steps: tuple[Step, ...]
    """History steps, then Dockerfile instructions when one was given."""
    filesystem: SquashedFilesystem | None
    thresholds: Thresholds


@dataclass(frozen=True)
class Hit:
    """Where a rule matched."""

    config_key: str | None = None
    layer: LayerRef | None = None
    line: int | None = None
    path: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class ConfigRule:
    """A self-describing config rule."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    check: Callable[[ConfigContext], Iterator[Hit]]
    covers: tuple[str, ...] = field(default=())
    """Trivy Dockerfile check ids (``DS002``) this rule covers."""


def _hit(step: Step, evidence: str | None = None) -> Hit:
    return Hit(step.config_key, step.layer, step.line,
               evidence=(evidence or step.arguments)[:200])


def _runs(context: ConfigContext) -> Iterator[tuple[Step, list[list[str]]]]:
    for step in context.steps:
        if step.instruction == "RUN":
            yield step, commands(step.arguments)


_SEPARATORS = re.compile(r"&&|\|\||;|\||\n|\$\(|`|\(|\)")


def commands(script: str) -> list[list[str]]:
    """Simple commands of a shell script as word lists (leading ``VAR=x`` dropped), crudely."""
    result = []
    for part in _SEPARATORS.split(script.replace("\\\n", " ")):
        words = [w.strip("'\"") for w in part.split()]
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)
        while words and words[0] in ("sudo", "exec", "env", "time", "nice", "then", "do",
                                     "else", "if", "!"):
            if words[0] == "sudo":
                words.pop(0)
                while words and words[0].startswith("-"):
                    words.pop(0)
                continue
            words.pop(0)
        if words:
            words[0] = words[0].rpartition("/")[2]
            result.append(words)
    return result


def _tool(words: list[str], *names: str) -> bool:
    return bool(words) and words[0] in names


def _subcommand(words: list[str]) -> str | None:
    return next((w for w in words[1:] if not w.startswith("-")), None)


# --- image config rules -------------------------------------------------------------------

def _root_user(context: ConfigContext) -> Iterator[Hit]:
    if context.config is None:
        return
    user = (context.config.user or "").strip()
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        yield Hit("User", evidence=f"User={user!r}" if user else "User unset (root)")


def _no_healthcheck(context: ConfigContext) -> Iterator[Hit]:
    config = context.config
    if config is None:
        return
    if config.healthcheck is None or config.healthcheck[:1] == ("NONE",):
        yield Hit("Healthcheck", evidence="no HEALTHCHECK in the image config")


def _ports(config: ImageConfig) -> Iterator[tuple[str, int | None]]:
    for port in config.exposed_ports:
        number = port.split("/", 1)[0]
        yield port, int(number) if number.isdigit() else None


def _sensitive_ports(context: ConfigContext) -> Iterator[Hit]:
    if context.config is None:
        return
    for port, number in _ports(context.config):
        if number in SENSITIVE_PORTS:
            yield Hit(f"ExposedPorts[{port}]", evidence=f"{port} ({SENSITIVE_PORTS[number]})")


def _invalid_ports(context: ConfigContext) -> Iterator[Hit]:
    if context.config is None:
        return
    for port, number in _ports(context.config):
        if number is None or not 0 < number <= 65535:
            yield Hit(f"ExposedPorts[{port}]", evidence=port)


def _image_size(context: ConfigContext) -> Iterator[Hit]:
    limit = context.thresholds.max_image_bytes
    size = context.image.total_size
    if limit is not None and size > limit:
        yield Hit("layers", evidence=f"{size} bytes stored, over {limit}")


def _layer_count(context: ConfigContext) -> Iterator[Hit]:
    limit = context.thresholds.max_layers
    count = len(context.image.layers) or (len(context.config.diff_ids) if context.config else 0)
    if limit is not None and count > limit:
        yield Hit("rootfs.diff_ids", evidence=f"{count} layers, over {limit}")


# --- instruction rules --------------------------------------------------------------------

_URL = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)


def _add_sources(step: Step) -> list[str]:
    words = [w for w in step.arguments.split() if not w.startswith("--")]
    if " in " in f" {step.arguments} ":  # classic: "file:<hash> in /dest"
        return [step.arguments.split(" in ", 1)[0].strip()]
    return words[:-1]


def _add_remote(context: ConfigContext) -> Iterator[Hit]:
    for step in context.steps:
        if step.instruction == "ADD" and any(_URL.match(s) for s in _add_sources(step)):
            yield _hit(step)


def _add_local(context: ConfigContext) -> Iterator[Hit]:
    for step in context.steps:
        if step.instruction != "ADD" or step.first_layer:
            continue
        sources = _add_sources(step)
        if sources and not any(_URL.match(s) for s in sources):
            yield _hit(step)


def _sudo(context: ConfigContext) -> Iterator[Hit]:
    for step, _ in _runs(context):
        if re.search(r"(?:^|[\s;&|(])sudo\s", step.arguments):
            yield _hit(step)


_PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^;&|]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:\S*/)?(?:ba|z|da|k|a)?sh\b"
    r"|\b(?:ba|z|da|k|a)?sh\s+-c\s+[\"']?\$\(\s*(?:curl|wget)\b"
    r"|\b(?:ba|z|da|k|a)?sh\s+<\(\s*(?:curl|wget)\b")


def _pipe_to_shell(context: ConfigContext) -> Iterator[Hit]:
    for step, _ in _runs(context):
        if _PIPE_TO_SHELL.search(step.arguments):
            yield _hit(step)


def _curl_and_wget(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        tools = {w[0] for w in words}
        if {"curl", "wget"} <= tools:
            yield _hit(step)


def _installs(words: list[list[str]], *tools: str) -> bool:
    return any(_tool(w, *tools) and _subcommand(w) in ("install", "add", "in", "reinstall")
               for w in words)


def _no_cache_cleaning(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        script = step.arguments
        missing = []
        if _installs(words, "apt-get", "apt") and "/var/lib/apt/lists" not in script:
            missing.append("apt lists not removed (rm -rf /var/lib/apt/lists/*)")
        if any(_tool(w, "apk") and _subcommand(w) == "add" and "--no-cache" not in w
               for w in words) and "/var/cache/apk" not in script:
            missing.append("apk add without --no-cache")
        for tool in ("yum", "dnf", "microdnf", "zypper"):
            if _installs(words, tool) and not any(
                    _tool(w, tool) and _subcommand(w) in ("clean", "cc") for w in words) \
                    and f"/var/cache/{tool}" not in script:
                missing.append(f"{tool} install without {tool} clean")
        if missing:
            yield _hit(step, "; ".join(missing))


_UPGRADES = {"apt-get": ("upgrade", "dist-upgrade", "full-upgrade"),
             "apt": ("upgrade", "dist-upgrade", "full-upgrade"), "apk": ("upgrade",),
             "yum": ("upgrade", "update", "distro-sync"),
             "dnf": ("upgrade", "update", "distro-sync"), "microdnf": ("upgrade", "update"),
             "zypper": ("up", "update", "dup", "dist-upgrade")}


def _upgrade(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        for w in words:
            sub = _subcommand(w)
            if w[0] in _UPGRADES and sub in _UPGRADES[w[0]]:
                if w[0] in ("yum", "dnf", "microdnf") and sub == "update" and \
                        len([x for x in w[2:] if not x.startswith("-")]) > 0:
                    continue  # "yum update pkg" updates named packages only
                yield _hit(step, " ".join(w))
                break


def _update_alone(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        for tool in ("apt-get", "apt", "apk"):
            updates = any(_tool(w, tool) and _subcommand(w) == "update" for w in words)
            if updates and not _installs(words, tool) and not any(
                    _tool(w, tool) and _subcommand(w) in _UPGRADES[tool] for w in words):
                yield _hit(step)
                break


def _no_install_recommends(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        if any(_tool(w, "apt-get", "apt") and _subcommand(w) == "install"
               and "--no-install-recommends" not in w
               and not any("Install-Recommends=false" in x for x in w) for w in words):
            yield _hit(step)


_CHMOD_777 = re.compile(r"^(?:0?[0-7]{2}[2367]|(?:a|ugo|o)\+r?wx?)$")


def _chmod_world_writable(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        for w in words:
            if _tool(w, "chmod") and any(_CHMOD_777.match(x) for x in w[1:]
                                         if not x.startswith("-")):
                yield _hit(step, " ".join(w))
                break


def _run_cd(context: ConfigContext) -> Iterator[Hit]:
    for step, words in _runs(context):
        if words and _tool(words[0], "cd"):
            yield _hit(step)


def _maintainer(context: ConfigContext) -> Iterator[Hit]:
    for step in context.steps:
        if step.instruction == "MAINTAINER":
            yield _hit(step)


def _package_caches(context: ConfigContext) -> Iterator[Hit]:
    if context.filesystem is None:
        return
    patterns = [(re.compile(p), name) for p, name in PACKAGE_CACHES]
    found: dict[str, tuple[int, int, str, int]] = {}
    for entry in context.filesystem:
        if entry.kind is not FileKind.REGULAR:
            continue
        for pattern, name in patterns:
            if pattern.fullmatch(entry.path):
                count, size, first, layer = found.get(name, (0, 0, entry.path, entry.layer_index))
                found[name] = (count + 1, size + entry.size, first, layer)
                break
    refs = _layer_refs(context)
    for name, (count, size, first, layer) in sorted(found.items()):
        yield Hit(None, refs.get(layer), path=first,
                  evidence=f"{name}: {count} files, {size} bytes")


def _layer_refs(context: ConfigContext) -> dict[int, LayerRef]:
    refs = {s.layer.index: s.layer for s in context.steps if s.layer is not None}
    for info in context.image.layers:
        refs.setdefault(info.index, LayerRef(info.index, info.diff_id, info.created_by))
    return refs


def _rule(id_: str, title: str, severity: Severity, rationale: str, remediation: str,
          check: Callable[[ConfigContext], Iterator[Hit]], *covers: str) -> ConfigRule:
    return ConfigRule(id_, title, severity, rationale, remediation, check, covers)


RULES: tuple[ConfigRule, ...] = (
    _rule("HS-CFG-001", "Image runs as root", Severity.HIGH,
          "A process running as root in the container is root on the host after an escape.",
          "Create an unprivileged user and set it with USER.", _root_user, "DS002"),
    _rule("HS-CFG-002", "No HEALTHCHECK", Severity.LOW,
          "Without a health check the runtime cannot tell a hung container from a healthy one.",
          "Add a HEALTHCHECK instruction.", _no_healthcheck, "DS026"),
    _rule("HS-CFG-003", "Sensitive port exposed", Severity.MEDIUM,
          "Remote administration and unauthenticated services do not belong in a container.",
          "Remove the EXPOSE and the service behind it.", _sensitive_ports, "DS004"),
    _rule("HS-CFG-004", "Exposed port out of range", Severity.LOW,
          "A port outside 1-65535 is a typo that leaves the intended port unpublished.",
          "Expose a valid port number.", _invalid_ports, "DS008"),
    _rule("HS-CFG-005", "ADD fetches a remote URL", Severity.MEDIUM,
          "ADD from a URL downloads unverified content at build time.",
          "Download with curl/wget and verify a checksum, or use ADD --checksum.",
          _add_remote, "DS005"),
    _rule("HS-CFG-006", "ADD used where COPY would do", Severity.LOW,
          "ADD silently extracts local archives; COPY does only what it says.",
          "Use COPY for local files.", _add_local, "DS005"),
    _rule("HS-CFG-007", "sudo in RUN", Severity.MEDIUM,
          "Build steps already run with the build user's rights; sudo hints at a sudo-enabled "
          "image.", "Drop sudo; switch users with USER.", _sudo, "DS010"),
    _rule("HS-CFG-008", "Remote script piped into a shell", Severity.HIGH,
          "curl|sh runs whatever the server returns, unverified.",
          "Download, verify a checksum or signature, then run.", _pipe_to_shell),
    _rule("HS-CFG-009", "Both curl and wget in one RUN", Severity.LOW,
          "Two download tools where one would do enlarge the image.",
          "Use one of them.", _curl_and_wget, "DS014"),
    _rule("HS-CFG-010", "Package install without cache cleaning", Severity.LOW,
          "Package indexes and caches left in a layer waste space and stay forever.",
          "Clean in the same RUN (rm -rf /var/lib/apt/lists/*, apk --no-cache, yum/dnf clean "
          "all, zypper clean).", _no_cache_cleaning, "DS015", "DS019", "DS020", "DS025"),
    _rule("HS-CFG-011", "Package upgrade in build", Severity.LOW,
          "upgrade/dist-upgrade makes builds unreproducible and belongs in the base image.",
          "Use a newer base image; pin what you install.", _upgrade, "DS024"),
    _rule("HS-CFG-012", "Package index update alone", Severity.LOW,
          "An update in its own RUN is cached and goes stale for later install steps.",
          "Update and install in the same RUN.", _update_alone, "DS017"),
    _rule("HS-CFG-013", "apt-get install without --no-install-recommends", Severity.LOW,
          "Recommended packages add size and attack surface nobody asked for.",
          "Add --no-install-recommends.", _no_install_recommends, "DS029"),
    _rule("HS-CFG-014", "chmod to world-writable", Severity.MEDIUM,
          "World-writable files let any user in the container change them.",
          "Grant write access to the owning user or group only.", _chmod_world_writable),
    _rule("HS-CFG-015", "RUN cd instead of WORKDIR", Severity.LOW,
          "cd in RUN does not carry over and hides the working directory.",
          "Use WORKDIR.", _run_cd, "DS013"),
    _rule("HS-CFG-016", "Deprecated MAINTAINER", Severity.LOW,
          "MAINTAINER is deprecated.", "Use LABEL maintainer=...", _maintainer, "DS022"),
    _rule("HS-CFG-017", "Package-manager cache left in image", Severity.LOW,
          "Downloaded packages and indexes in the final image waste space.",
          "Remove caches in the step that creates them, or use a cache mount.",
          _package_caches),
    _rule("HS-CFG-018", "Image very large", Severity.LOW,
          "Large images pull slowly and usually carry unneeded software.",
          "Use a smaller base and multi-stage builds.", _image_size),
    _rule("HS-CFG-019", "Too many layers", Severity.LOW,
          "Many layers slow pulls and hit storage-driver limits.",
          "Combine RUN steps; use multi-stage builds.", _layer_count),
)
