"""ezurnals web app: pages for teachers, class teachers and families over the service APIs."""

from ezurnals.web.app import create_app, serve_web

__all__ = ["create_app", "serve_web"]
