"""The site's HTML pages, one module per area (see `pages/urls.py` for which address goes where)."""
