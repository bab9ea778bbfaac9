"""Secret rules (what a secret looks like) and allow rules (known false positives)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hullscan.vuln.severity import Severity


@dataclass(frozen=True)
class SecretRule:
    """One kind of secret.

    The scanner only runs ``pattern`` on content holding at least one of ``keywords``
    (lower case, compared with the lower-cased content); a rule without keywords always runs.
    """

    id: str
    title: str
    severity: Severity
    keywords: tuple[str, ...]
    pattern: re.Pattern[bytes]
    secret_group: int | str = 0
    """The group of ``pattern`` holding the secret value (what is redacted and hashed)."""
    entropy_min: float | None = None
    """Minimum Shannon entropy (bits per character) of the value; None: no check."""
    path_filter: re.Pattern[str] | None = None
    """When set, the rule only applies to files whose path this pattern searches true."""
    lowercase: bool = False
    """``pattern`` is written in lower case and runs on the lower-cased content (much faster
    than ``(?i)``); the secret is still taken from the original content."""
    starts: tuple[bytes, ...] = ()
    """Literals every match of ``pattern`` begins with (in the text it runs on), if known:
    the scanner then tries the regex only where one of them occurs. Empty: no such list."""

    def applies_to(self, path: str) -> bool:
        """Does the rule look at this file at all?"""
        return self.path_filter is None or self.path_filter.search(path) is not None


@dataclass(frozen=True)
class AllowRule:
    """A known false positive: matches a hit when every given field matches.

    ``rule`` is a rule id (``*`` or None: any rule), ``path`` a glob over the path without
    leading slash (``**`` crosses directories; None: any path; image-config findings have no
    path and so never match a path-bound allow rule), ``value`` a regex searched in the secret.
    """

    reason: str
    rule: str | None = None
    path: str | None = None
    value: re.Pattern[str] | None = None

    def allows(self, rule_id: str, path: str, value: str) -> bool:
        """Is this hit a known false positive?"""
        if self.rule not in (None, "*", rule_id):
            return False
        if self.path is not None and not glob_regex(self.path).fullmatch(path):
            return False
        return self.value is None or self.value.search(value) is not None


@lru_cache(maxsize=1024)
def glob_regex(glob: str) -> re.Pattern[str]:
    """``**/`` any directories (or none), ``**`` anything, ``*`` within a name, ``?`` one char."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _rule(rule_id: str, title: str, severity: Severity, keywords: tuple[str, ...],
          pattern: bytes, secret_group: int | str = 1, entropy_min: float | None = None,
          path_filter: str | None = None, lowercase: bool = False,
          starts: tuple[bytes, ...] = ()) -> SecretRule:
    return SecretRule(f"HS-SEC-{rule_id}", title, severity, keywords, re.compile(pattern),
                      secret_group, entropy_min,
                      re.compile(path_filter) if path_filter is not None else None, lowercase,
                      starts)


_C, _H, _M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM
_Q = rb"""["']?"""  # an optional quote around a value
_DB_SCHEMES = (b"postgres", b"postgresql", b"mysql", b"mariadb", b"mongodb", b"mongodb+srv",
               b"redis", b"rediss", b"amqp", b"amqps", b"mssql", b"sqlserver", b"oracle")
_KUBECONFIG_PATH = r"(?:^|/)(?:\.kube/config|[^/]*kubeconfig[^/]*|admin\.conf|kubelet\.conf)$"

RULES: tuple[SecretRule, ...] = (
    # No keyword: the leading literal "A" (a look-behind after it is the word boundary) makes
    # this regex one fast pass, five times cheaper than checking four keywords.
    _rule("AWS-ACCESS-KEY", "AWS access key ID", _C, (),
          rb"(A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16})(?![A-Za-z0-9])"),
    _rule("AWS-SECRET-KEY", "AWS secret access key", _C, ("secret",),
          rb"secret[_\-]?access[_\-]?key" + _Q + rb"\s*[:=]\s*" + _Q
          + rb"([a-z0-9/+]{40})(?![a-z0-9/+])", entropy_min=3.5, lowercase=True),
    _rule("GCP-SERVICE-ACCOUNT", "GCP service-account key", _C, ("private_key_id",),
          rb'"private_key_id"\s*:\s*"([a-f0-9]{40})"'),
    # starts=: a regex opening with \b makes re try every position; finding the literal and
    # trying only there gives the same matches (see scanner.matches).
    _rule("GCP-API-KEY", "Google API key", _H, ("aiza",), rb"\b(AIza[0-9A-Za-z_\-]{35})(?![\w-])",
          starts=(b"AIza",)),
    _rule("AZURE-STORAGE-KEY", "Azure storage account key", _C, ("accountkey",),
          rb"accountkey\s*=\s*([a-z0-9+/]{86}==)", lowercase=True),
    # The regex starts with a literal, which the engine finds as fast as a keyword check
    # would (the look-behind after it is the word boundary). Its "_" is the keyword: a
    # one-byte search (memchr) costs a tenth of that pass, and text without "_" skips it.
    _rule("GITHUB-TOKEN", "GitHub token", _C, ("_",),
          rb"(gh(?<![A-Za-z0-9_]gh)[pousr]_[A-Za-z0-9]{36,251})\b"),
    _rule("GITHUB-FINE-GRAINED-TOKEN", "GitHub fine-grained token", _C, ("github_pat_",),
          rb"\b(github_pat_[A-Za-z0-9_]{82})\b", starts=(b"github_pat_",)),
    _rule("GITLAB-TOKEN", "GitLab token", _C, ("-",),  # "-": as "_" for GitHub
          rb"(gl(?<![A-Za-z0-9_]gl)(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,})"),
    # Keyword "-" (a one-byte search) and the literal "xox" found in the content: one search
    # where "xox" in the lower-cased text and then the regex over the whole file were two.
    _rule("SLACK-TOKEN", "Slack token", _H, ("-",),
          rb"\b(xox(?:[abprs]|e(?:\.xox[bp])?)-[0-9A-Za-z\-]{10,})", entropy_min=3.0,
          starts=(b"xox",)),
    _rule("SLACK-WEBHOOK", "Slack incoming webhook", _H, ("hooks.slack.com",),
          rb"https://hooks\.slack\.com/(?:services|workflows)/(T[A-Z0-9]+/[AB][A-Z0-9]+/"
          rb"[A-Za-z0-9]{20,})"),
    _rule("STRIPE-KEY", "Stripe live secret key", _C, ("_live_",),
          rb"\b((?:sk|rk)_live_[0-9A-Za-z]{20,247})\b", starts=(b"sk_live_", b"rk_live_")),
    _rule("TWILIO-API-KEY", "Twilio API key", _H, ("twilio",), rb"\b(SK[0-9a-fA-F]{32})\b",
          starts=(b"SK",)),
    _rule("SENDGRID-KEY", "SendGrid API key", _H, ("sg.",),
          rb"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?![\w-])", starts=(b"SG.",)),
    _rule("NPM-TOKEN", "npm access token", _C, ("npm_",), rb"\b(npm_[A-Za-z0-9]{36})\b",
          starts=(b"npm_",)),
    _rule("PYPI-TOKEN", "PyPI upload token", _C, ("pypi-ag",),
          rb"\b(pypi-AgE[A-Za-z0-9_\-]{50,})", starts=(b"pypi-AgE",)),
    _rule("PRIVATE-KEY", "Private key", _C, ("private key",),
          rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\r?\n"
          rb"(?:[A-Za-z-]+:[^\r\n]*\r?\n)*\s*([A-Za-z0-9+/=\r\n]{64,})"),
    _rule("PGP-PRIVATE-KEY", "PGP private key block", _C, ("pgp private key block",),
          rb"-----BEGIN PGP PRIVATE KEY BLOCK-----\r?\n(?:[A-Za-z-]+:[^\r\n]*\r?\n)*\s*"
          rb"([A-Za-z0-9+/=\r\n]{64,})"),
    # Keyword ".", literal "eyJ": as for Slack tokens.
    _rule("JWT", "JSON Web Token", _M, (".",),
          rb"\b(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})",
          entropy_min=3.5, starts=(b"eyJ",)),
    _rule("DOCKER-CONFIG-AUTH", "Registry credentials in a Docker config", _C,
          ('"auth"', '"identitytoken"', '"password"'),
          rb'"(?:auth|identitytoken|password)"\s*:\s*"([^"\s]{8,})"',
          path_filter=r"(?:^|/)(?:\.docker/config\.json|\.dockercfg|config\.json)$"),
    _rule("NETRC-PASSWORD", "Password in a .netrc file", _H, ("password",),
          rb"\bpassword\s+(\S+)", path_filter=r"(?:^|/)[._]netrc$"),
    _rule("PYPIRC-PASSWORD", "Password in a .pypirc file", _H, ("password",),
          rb"(?m)^[ \t]*password[ \t]*[:=][ \t]*(\S+)", path_filter=r"(?:^|/)\.pypirc$"),
    _rule("NPMRC-AUTH", "Credentials in an .npmrc file", _H, ("_auth", "_password"),
          rb'(?:_authToken|_auth|_password)\s*=\s*"?([^\s"]{8,})',
          path_filter=r"(?:^|/)\.?npmrc$"),
    _rule("KUBECONFIG-CLIENT-KEY", "Client key in a kubeconfig", _C, ("client-key-data",),
          rb"client-key-data\s*:\s*" + _Q + rb"([A-Za-z0-9+/=]{40,})"),
    _rule("KUBECONFIG-TOKEN", "Token or password in a kubeconfig", _H, ("token", "password"),
          rb"(?m)^\s*(?:token|password)\s*:\s*" + _Q + rb"([^\s\"']{8,})",
          path_filter=_KUBECONFIG_PATH),
    _rule("DATABASE-URL-PASSWORD", "Database URL with a password", _H,
          ("://",),
          # The literal "://" first lets the regex engine skip ahead fast; the scheme is
          # checked behind it (one fixed-width look-behind per scheme).
          rb"://(?:" + b"|".join(rb"(?<=" + re.escape(s) + rb"://)" for s in _DB_SCHEMES)
          + rb")[^:/\s@'\"]+:([^@/\s'\"]{3,})@[^\s'\"/]+", lowercase=True),
    _rule("GENERIC-PASSWORD", "Hard-coded password or secret", _M,
          ("passw", "secret", "api_key", "apikey", "api-key", "token"),
          rb"(?:passw(?:or)?d|secret|api[_\-]?key|access[_\-]?token|auth[_\-]?token)"
          rb"[a-z0-9_.\-]*" + _Q + rb"\s*(?::=|=|:)\s*([\"'])([^\"'\s]{8,})\1",
          secret_group=2, entropy_min=3.5, lowercase=True,
          # Where the alternation's words start; the regex is tried only there (an
          # alternation makes re try every "p", "s" and "a" of the file).
          starts=(b"passw", b"secret", b"api", b"access", b"auth")),
    _rule("GENERIC-ENV-ASSIGNMENT", "Hard-coded password or secret in an environment file", _M,
          ("passw", "secret", "api_key", "apikey", "token"),
          rb"(?m)(?:PASSWORD|PASSWD|SECRET|API_?KEY|TOKEN)[A-Z0-9_]*[ \t]*=[ \t]*"
          rb"([^\s\"'#$`(){}\[\]<>]{8,})[ \t]*\r?$",
          entropy_min=3.5, starts=(b"PASSW", b"SECRET", b"API", b"TOKEN")),
)
"""Built-in rules. Each keyword list is the prefilter: lower-case text that must occur."""


def _allow(reason: str, *, rule: str | None = None, path: str | None = None,
           value: str | None = None) -> AllowRule:
    return AllowRule(reason, rule, path, re.compile(value) if value is not None else None)


ALLOW_RULES: tuple[AllowRule, ...] = (
    # AWS's documentation uses these example credentials everywhere (SDKs, CLIs, tutorials).
    _allow("AWS documented example access key", rule="HS-SEC-AWS-ACCESS-KEY",
           value=r"^A[KS]IA[A-Z0-9]*EXAMPLE$"),
    _allow("AWS documented example secret key", rule="HS-SEC-AWS-SECRET-KEY",
           value=r"EXAMPLEKEY$"),
    # The jwt.io sample token ("John Doe", sub 1234567890) appears in countless READMEs.
    _allow("jwt.io sample token", rule="HS-SEC-JWT",
           value=r"\.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIi"),
    # Example values from the OAuth RFCs (5849, 6749), quoted in every OAuth library.
    _allow("OAuth RFC example values", value=r"^(?:2YotnFZFEjr1zCsicMWpAA|tGzv3JOkF0XG5Qx2TlKWIA"
           r"|ad180jjd733klru7|hh5s93j4hdidpola|nnch734d00sl2jdk|kd94hf93k423kf44"
           r"|pfkkdhi9sl3r4s00|dh893hdasih9|hdk48Djdsa)$"),
    # A letters-only quoted value in code is a word or identifier (the OID name
    # "challengePassword" after CHALLENGE_PASSWORD), not a generated secret.
    _allow("identifier, not a secret", rule="HS-SEC-GENERIC-PASSWORD", value=r"^[A-Za-z]+$"),
    # Installed documentation of OS and language packages: examples, never live credentials.
    _allow("package documentation", path="usr/share/doc/**"),
    _allow("manual pages", path="usr/share/man/**"),
    _allow("info pages", path="usr/share/info/**"),
    _allow("python package documentation", path="**/site-packages/**/docs/**"),
    _allow("python package documentation", path="**/dist-packages/**/docs/**"),
    # Python package metadata: the long description is the project's README.
    _allow("python package metadata (README)", path="**/*.dist-info/METADATA"),
    _allow("python package metadata (README)", path="**/*.egg-info/PKG-INFO"),
    # Markdown / reStructuredText / AsciiDoc files are documentation wherever they are.
    _allow("markdown documentation", path="**/*.md"),
    _allow("reStructuredText documentation", path="**/*.rst"),
    _allow("AsciiDoc documentation", path="**/*.adoc"),
    # Test suites and fixtures shipped inside third-party packages carry fake keys on purpose
    # (crypto libraries ship test private keys). Only inside package trees, never an
    # application's own tests.
    _allow("python package tests", path="**/site-packages/**/test*/**"),
    _allow("python package tests", path="**/dist-packages/**/test*/**"),
    _allow("node module tests", path="**/node_modules/**/test*/**"),
    _allow("node module tests", path="**/node_modules/**/__tests__/**"),
    _allow("node module fixtures", path="**/node_modules/**/fixtures/**"),
    _allow("ruby gem tests", path="**/gems/*/test/**"),
    _allow("ruby gem specs", path="**/gems/*/spec/**"),
    _allow("go module test data", path="**/pkg/mod/**/testdata/**"),
)
"""Built-in allow rules (see each comment for why)."""
