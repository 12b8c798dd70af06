"""BrandForge as an HTTP service: ``brandforge serve`` (FastAPI on uvicorn).

Modules: :mod:`service.app` (routes, errors, middleware), :mod:`service.jobs` (campaign jobs and the
workers that run them), :mod:`service.store` (keys, jobs, events and audit log on SQLite or
PostgreSQL), :mod:`service.auth` (API keys, scopes, rate limits), :mod:`service.brands` (registered
brands and their indexes), :mod:`service.metrics` (Prometheus), :mod:`service.config` (settings) and
:mod:`service.client` (a small Python client). The service sits on top: it imports ``pipelines``;
nothing else imports it.
"""
