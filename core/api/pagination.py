from django.core.paginator import Paginator as DjangoPaginator
from rest_framework import pagination


class Paginator(DjangoPaginator):
    """Django's paginator, but a first page that holds every object counts them by its length.

    Most lists (a member's sessions, a passage's notes) fit on one page: reading one row more
    than a page tells whether they do, and spares the `COUNT(*)` query (with the list's whole
    visibility rule in it) that the paginator otherwise makes first. Longer lists are counted
    as before; the answer is the same either way.
    """

    def page(self, number):
        try:
            first = int(number) == 1
        except (TypeError, ValueError):
            first = False
        if not first or "count" in self.__dict__ or not self.allow_empty_first_page:
            return super().page(number)
        limit = self.per_page + self.orphans
        rows = list(self.object_list[: limit + 1])
        if len(rows) <= limit:
            self.__dict__["count"] = len(rows)  # `count` is a cached property
            return self._get_page(rows, 1, self)
        self.validate_number(1)  # counts them
        return self._get_page(rows[: self.per_page], 1, self)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = Paginator
    page_size_query_param = "page_size"
    max_page_size = 500
