"""The multi-tenant service layer: organisations, users, roles, parks, jobs, uploads, audit.

The HTTP API (:mod:`greenlink.api`), the web pages (:mod:`greenlink.web`) and the ``serve`` /
``users`` CLI commands are thin shells over the functions of this package; no business rule lives
in a route.
"""
