"""Parsers for operating-system package databases (dpkg, apk, rpm).

Each module holds pure functions from ``(path, content)`` to :class:`FoundPackage` lists; reading
files out of image layers is the caller's job.
"""
