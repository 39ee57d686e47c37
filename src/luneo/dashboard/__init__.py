"""The brand's web dashboard: server-rendered pages (Jinja2 + HTMX) over the domains' public services.

No business logic of its own: every page reads and writes through another domain's `public`
module inside the same tenant guard as the API, so a page can do exactly what the signed-in
person's role allows and nothing else.
"""
