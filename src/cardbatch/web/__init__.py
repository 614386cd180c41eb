"""The web console: server-rendered pages (Jinja2, a little vendored htmx) over the services.

Sign-in uses the same users as the API (token, or a password set with
``users add --password``); a server-side session sits behind an HttpOnly
cookie, and every form carries a CSRF token. Chinese labels by default, English
by the switch in the header. Vendored: ``static/htmx-2.0.4.min.js`` (htmx
2.0.4, BSD Zero Clause License, ``static/htmx-2.0.4.LICENSE.txt``).
"""
