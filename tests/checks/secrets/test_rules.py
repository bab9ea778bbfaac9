"""Every built-in rule: a realistic synthetic positive and a negative."""

from __future__ import annotations

import base64
import json

import pytest

from hullscan.checks.secrets import RULES, scan_bytes
from tests.checks.secrets.fakes import (
    ALNUM,
    B64,
    B64URL,
    HEX,
    UPPER32,
    jwt,
    pem,
    pgp,
    rand,
)

AWS_ID = "AK" + "IA" + rand(UPPER32, 16)
AWS_SECRET = rand(B64, 40)
AUTH = base64.b64encode(f"ci:{rand(ALNUM, 20)}".encode()).decode()

POSITIVES: list[tuple[str, str, str]] = [
    ("HS-SEC-AWS-ACCESS-KEY", "app/settings.py", f'AWS_KEY_ID = "{AWS_ID}"\n'),
    ("HS-SEC-AWS-SECRET-KEY", "root/.aws/credentials",
     f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n"),
    ("HS-SEC-GCP-SERVICE-ACCOUNT", "app/sa.json",
     json.dumps({"type": "service_account", "project_id": "demo",
                 "private_key_id": rand(HEX, 40), "client_email": "x@demo.example"})),
    ("HS-SEC-GCP-API-KEY", "app/maps.js", 'const key = "AI' + f'za{rand(B64URL, 35)}";\n'),
    ("HS-SEC-AZURE-STORAGE-KEY", "app/appsettings.json",
     '{"Storage": "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey='
     + rand(B64, 86) + '==;EndpointSuffix=core.windows.net"}'),
    ("HS-SEC-GITHUB-TOKEN", "app/deploy.sh", f"git clone https://{'gh' + 'p_'}"
     f"{rand(ALNUM, 36)}@github.example/org/repo\n"),
    ("HS-SEC-GITHUB-FINE-GRAINED-TOKEN", "app/ci.env",
     f"GH={'github' + '_pat_'}{rand(ALNUM + '_', 82)}\n"),
    ("HS-SEC-GITLAB-TOKEN", "app/ci.yml", f"  token: {'glp' + 'at-'}{rand(ALNUM, 20)}\n"),
    ("HS-SEC-SLACK-TOKEN", "app/bot.py",
     f'SLACK = "{"xo" + "xb-"}123456789012-1234567890123-{rand(ALNUM, 24)}"\n'),
    ("HS-SEC-SLACK-WEBHOOK", "app/notify.sh",
     f"curl -X POST https://hooks.slack.com/services/T{rand(UPPER32, 8)}/B{rand(UPPER32, 9)}/"
     f"{rand(ALNUM, 24)}\n"),
    ("HS-SEC-STRIPE-KEY", "app/pay.rb", f'Stripe.api_key = "{"sk" + "_live_"}{rand(ALNUM, 24)}"\n'),
    ("HS-SEC-TWILIO-API-KEY", "app/sms.py",
     f'client = twilio.Client("{"S" + "K"}{rand(HEX, 32)}", secret)\n'),
    ("HS-SEC-SENDGRID-KEY", "app/mail.py",
     f'sg = SendGridAPIClient("{"S" + "G."}{rand(B64URL, 22)}.{rand(B64URL, 43)}")\n'),
    ("HS-SEC-NPM-TOKEN", "app/publish.sh", f"NODE_AUTH={'np' + 'm_'}{rand(ALNUM, 36)} npm ci\n"),
    ("HS-SEC-PYPI-TOKEN", "app/upload.sh",
     f"twine upload -p {'pypi' + '-AgE'}{rand(B64URL, 80)} dist/*\n"),
    ("HS-SEC-PRIVATE-KEY", "etc/ssl/private/server.key", pem("RSA ")),
    ("HS-SEC-PRIVATE-KEY", "etc/ssl/private/ec.key", pem("EC ")),
    ("HS-SEC-PRIVATE-KEY", "etc/ssl/private/dsa.key", pem("DSA ")),
    ("HS-SEC-PRIVATE-KEY", "root/.ssh/id_ed25519", pem("OPENSSH ")),
    ("HS-SEC-PRIVATE-KEY", "app/key.pem", pem("")),
    ("HS-SEC-PGP-PRIVATE-KEY", "root/signing.asc", pgp()),
    ("HS-SEC-JWT", "app/client.py", f'headers = {{"Authorization": "Bearer {jwt()}"}}\n'),
    ("HS-SEC-DOCKER-CONFIG-AUTH", "root/.docker/config.json",
     json.dumps({"auths": {"registry.example.internal": {"auth": AUTH}}})),
    ("HS-SEC-NETRC-PASSWORD", "root/.netrc",
     f"machine git.example.internal login bot password {rand(ALNUM, 18)}\n"),
    ("HS-SEC-PYPIRC-PASSWORD", "root/.pypirc",
     "[distutils]\nindex-servers = internal\n\n[internal]\n"
     f"repository = https://pkgs.example.internal/\nusername = ci\npassword = {rand(ALNUM, 18)}\n"),
    ("HS-SEC-NPMRC-AUTH", "home/node/.npmrc",
     f"//npm.example.internal/:_authToken={rand(HEX, 8)}-{rand(HEX, 4)}-{rand(HEX, 12)}\n"),
    ("HS-SEC-KUBECONFIG-CLIENT-KEY", "root/.kube/config",
     f"users:\n- name: admin\n  user:\n    client-key-data: {rand(B64, 120)}\n"),
    ("HS-SEC-KUBECONFIG-TOKEN", "root/.kube/config",
     f"users:\n- name: ci\n  user:\n    token: {rand(B64URL, 40)}\n"),
    ("HS-SEC-DATABASE-URL-PASSWORD", "app/config.yaml",
     f"database_url: postgresql://app:{rand(ALNUM, 16)}@db.internal:5432/app\n"),
    ("HS-SEC-DATABASE-URL-PASSWORD", "app/.env.production",
     f"MONGO=mongodb+srv://svc:{rand(ALNUM, 16)}@cluster0.example.net/db\n"),
    ("HS-SEC-GENERIC-PASSWORD", "app/settings.py", f'DB_PASSWORD = "{rand(ALNUM, 16)}"\n'),
    ("HS-SEC-GENERIC-ENV-ASSIGNMENT", "app/.env", f"SERVICE_API_TOKEN={rand(ALNUM, 24)}\n"),
]

NEGATIVES: list[tuple[str, str, str]] = [
    ("HS-SEC-AWS-ACCESS-KEY", "app/a.py", 'prefix = "AKIA"  # short\n'),
    ("HS-SEC-AWS-SECRET-KEY", "app/a.sh", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n"),
    ("HS-SEC-GCP-SERVICE-ACCOUNT", "app/a.json", '{"private_key_id": "abc"}'),
    ("HS-SEC-GCP-API-KEY", "app/a.js", 'const prefix = "AIza";\n'),
    ("HS-SEC-AZURE-STORAGE-KEY", "app/a.json", '"AccountKey=<your-key>"'),
    ("HS-SEC-GITHUB-TOKEN", "app/a.py", 'PREFIXES = ("ghp_", "gho_")\n'),
    ("HS-SEC-GITHUB-FINE-GRAINED-TOKEN", "app/a.py", 'P = "github_pat_"\n'),
    ("HS-SEC-GITLAB-TOKEN", "app/a.py", 'P = "glpat-"\n'),
    ("HS-SEC-SLACK-TOKEN", "app/a.py", 'if token.startswith("xoxb-"):\n'),
    ("HS-SEC-SLACK-WEBHOOK", "app/a.sh",
     "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n"),
    ("HS-SEC-STRIPE-KEY", "app/a.rb", f'key = "{"sk" + "_test_"}{rand(ALNUM, 24)}"\n'),
    ("HS-SEC-TWILIO-API-KEY", "app/a.py", f'checksum = "{"S" + "K"}{rand(HEX, 32)}"\n'),
    ("HS-SEC-SENDGRID-KEY", "app/a.py", 'msg.send()\n'),
    ("HS-SEC-NPM-TOKEN", "app/a.sh", "npm_config_cache=/tmp/npm_cache\n"),
    ("HS-SEC-PYPI-TOKEN", "app/a.py", 'if token.startswith("pypi-"):\n'),
    ("HS-SEC-PRIVATE-KEY", "app/a.py", 'HEADER = b"-----BEGIN RSA ' + 'PRIVATE KEY-----"\n'),
    ("HS-SEC-PRIVATE-KEY", "app/pub.pem", "-----BEGIN PUBLIC KEY-----\n" + rand(B64, 64) + "\n"),
    ("HS-SEC-PGP-PRIVATE-KEY", "app/a.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"),
    ("HS-SEC-JWT", "app/a.py", 'if token.startswith("eyJ"):\n'),
    ("HS-SEC-DOCKER-CONFIG-AUTH", "root/.docker/config.json",
     '{"auths": {"registry.example.internal": {}}, "credsStore": "desktop"}'),
    ("HS-SEC-DOCKER-CONFIG-AUTH", "app/settings.json", '{"auth": "' + AUTH + '"}'),
    ("HS-SEC-NETRC-PASSWORD", "app/notes.txt", f"machine x login y password {rand(ALNUM, 18)}\n"),
    ("HS-SEC-PYPIRC-PASSWORD", "root/.pypirc", "[internal]\npassword = ${PYPI_PASSWORD}\n"),
    ("HS-SEC-NPMRC-AUTH", "home/node/.npmrc", "//npm.example.internal/:_authToken=${NPM_TOKEN}\n"),
    ("HS-SEC-KUBECONFIG-CLIENT-KEY", "root/.kube/config", "    client-key-data: REDACTED\n"),
    ("HS-SEC-KUBECONFIG-TOKEN", "app/values.yaml", f"    token: {rand(B64URL, 40)}\n"),
    ("HS-SEC-DATABASE-URL-PASSWORD", "app/a.yaml",
     "url: postgres://app@db:5432/app\nexample: postgres://user:password@localhost/db\n"),
    ("HS-SEC-GENERIC-PASSWORD", "app/a.py",
     'password = "changeme"\npassword = get_password()\nsecret = "aaaaaaaaab"\n'),
    ("HS-SEC-GENERIC-ENV-ASSIGNMENT", "app/.env", "API_TOKEN=${API_TOKEN}\nSECRET=changeme\n"),
]


def _ids(path: str, text: str) -> set[str]:
    return {hit.rule.id for hit in scan_bytes(path, text.encode())}


@pytest.mark.parametrize(("rule_id", "path", "text"), POSITIVES,
                         ids=[f"{r}-{p}" for r, p, _ in POSITIVES])
def test_positive(rule_id: str, path: str, text: str) -> None:
    assert rule_id in _ids(path, text)


@pytest.mark.parametrize(("rule_id", "path", "text"), NEGATIVES,
                         ids=[f"{r}-{p}" for r, p, _ in NEGATIVES])
def test_negative(rule_id: str, path: str, text: str) -> None:
    assert rule_id not in _ids(path, text)


def test_every_rule_has_a_positive_and_a_negative() -> None:
    ids = {rule.id for rule in RULES}
    assert ids == {r for r, _, _ in POSITIVES}
    assert ids == {r for r, _, _ in NEGATIVES}
    assert all(rule.id.startswith("HS-SEC-") for rule in RULES)
    assert len(ids) == len(RULES)


def test_one_secret_one_hit() -> None:
    """A specific rule's match is not reported again by a generic rule."""
    hits = scan_bytes("app/.env", f"GITHUB_TOKEN={'gh' + 'p_'}{rand(ALNUM, 36)}\n".encode())
    assert [hit.rule.id for hit in hits] == ["HS-SEC-GITHUB-TOKEN"]
