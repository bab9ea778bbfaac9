"""The web dashboard of ``hullscan serve``: server-rendered pages at ``/`` (Jinja2, htmx and
Chart.js served from ``/static``), behind the same API tokens, kept in a cookie.
:func:`hullscan.service.web.mount.mount_dashboard` adds it to the API application."""
