"""The ``/v1`` routers, one per resource, and ``/health``."""

from __future__ import annotations

from fastapi import APIRouter

from hullscan.service.api.routes import (
    health,
    images,
    policies,
    registries,
    results,
    subscriptions,
    tokens,
    vulnerabilities,
    webhooks,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router, registries.router, images.router, results.router, policies.router,
    subscriptions.router, vulnerabilities.router, webhooks.router, tokens.router)
"""Every router the application includes."""
