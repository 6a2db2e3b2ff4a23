"""Search: one box over the texts of your groups, their passages, and the notes and replies you may see."""

from django import forms
from django.shortcuts import render

from core.rules import SIGNED_IN
from core.validators import validate_single_line
from pages.rules import rule_required
from readings import search
from readings.api.serializers import SEARCH_PAGE_MAX
from sessions_app.selectors import groups_for_user, sessions_for_user

PAGE_SIZE = 20


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search", max_length=search.QUERY_MAX_CHARS, required=False, validators=[validate_single_line]
    )
    group = forms.TypedChoiceField(label="Group", coerce=int, empty_value=None, required=False)
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[
            ("", "Everything"),
            ("text", "Texts"),
            ("passage", "Passages"),
            ("note", "Notes"),
            ("reply", "Replies"),
        ],
    )
    tag = forms.CharField(label="Tag", max_length=40, required=False, validators=[validate_single_line])
    session = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    text = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    author = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=SEARCH_PAGE_MAX, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["group"].choices = [("", "All my groups")] + [
            (group.pk, group.name) for group in groups_for_user(user)
        ]

    def clean_session(self):
        session_id = self.cleaned_data.get("session")
        if session_id is None:
            return None
        session = sessions_for_user(self.user).filter(pk=session_id).first()
        if session is None:
            raise forms.ValidationError("No such session among yours.")
        return session


@rule_required(SIGNED_IN, methods=["GET"])
def search_page(request):
    """The results of `?q=` with the filters, best first, 20 to a page; the matched words marked."""
    form = SearchForm(request.GET or None, user=request.user)
    context = {"form": form, "results": [], "count": 0, "searched": False}
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        fields = form.cleaned_data
        scope = search.search_scope(
            user=request.user,
            query=fields["q"],
            group=fields["group"],
            text=fields["text"],
            session=fields["session"],
            author=fields["author"],
            tag=fields["tag"] or None,
            kind=fields["kind"] or None,
        )
        number = fields["page"] or 1
        count, hits = search.search_page(scope, page=number, page_size=PAGE_SIZE)
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            searched=True,
            count=count,
            results=search.search_results(scope, hits),
            page=number,
            pages=max(1, -(-count // PAGE_SIZE)),
            base_query=query.urlencode(),
        )
    status = 400 if form.is_bound and form.errors else 200  # bad input is a 400, its errors shown on the form
    return render(request, "pages/search.html", context, status=status)
