"""hullscan: a container-image security scanner and policy gate."""

__version__ = "0.1.0"
