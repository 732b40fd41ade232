"""Server-rendered web dashboard (Jinja2, no JavaScript framework, no CDN)."""
