"""Forms of the import flow: the upload, the mapping of columns to fields, and the choices made
before the rows are written."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team

from .imports.fields import BY_KEY, FIELDS
from .lib import inputs
from .models import ImportBatch, ImportMapping, ImportPolicy, Pool, Tier
from .services.imports import values


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (.xlsx, .xls or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}))
    mapping = forms.ModelChoiceField(label=_("Saved column mapping (optional)"), required=False,
                                     queryset=ImportMapping.objects.all())


def _tier_words_text(words):
    return "\n".join(f"{word}={tier}" for word, tier in sorted((words or {}).items()))


class ImportMappingForm(forms.Form):
    """The sheet, the heading row (as people count, from 1) and one field per column."""

    sheet = forms.ChoiceField(label=_("Sheet"))
    header_row = inputs.IntegerField(label=_("Heading row"), min_value=1, max_value=100)
    tier_words = forms.CharField(
        label=_("Extra tier words"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. 战略合作=A. Common words (重点客户, A类, VIP …) are known already."))
    save_as = forms.CharField(label=_("Save this mapping as (optional)"), required=False, max_length=60)

    def __init__(self, *args, batch, **kwargs):
        initial = {"sheet": batch.sheet, "header_row": (batch.header_row or 0) + 1,
                   "tier_words": _tier_words_text(batch.tier_words), "save_as": ""}
        for index, _heading in enumerate(batch.headings):
            initial[f"col_{index}"] = batch.mapping.get(str(index), "")
        super().__init__(*args, initial=initial, **kwargs)
        self.batch = batch
        self.fields["sheet"].choices = [(name, name) for name in batch.sheet_names]
        options = [("", _("— not imported —"))] + [(f.key, f.label) for f in FIELDS]
        for index, heading in enumerate(batch.headings):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=heading or _("Column %(n)d") % {"n": index + 1}, choices=options, required=False)

    @property
    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.batch.headings))]

    def clean_tier_words(self):
        words = {}
        for number, line in enumerate(self.cleaned_data["tier_words"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            word, sep, tier = line.replace("＝", "=").partition("=")
            tier = tier.strip().upper()
            if not sep or not word.strip() or tier not in Tier.values:
                raise forms.ValidationError(
                    _("Line %(n)d: write a word, “=” and A, B or C, e.g. 战略合作=A.") % {"n": number})
            words[word.strip()] = tier
        return words

    def mapping(self):
        return {str(index): self.cleaned_data.get(f"col_{index}") or ""
                for index in range(len(self.batch.headings))}


class ImportCommitForm(forms.Form):
    policy = forms.ChoiceField(label=_("Customers that exist already"), choices=ImportPolicy.choices,
                               widget=forms.RadioSelect, initial=ImportPolicy.SKIP)
    unknown_owner = forms.ChoiceField(label=_("Customers without a known owner"),
                                      choices=ImportBatch.UnknownOwner.choices, widget=forms.RadioSelect,
                                      initial=ImportBatch.UnknownOwner.POOL)
    default_owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.ModelChoiceField(label=_("Team of customers without an owner"), required=False,
                                  queryset=Team.objects.all())
    pool = forms.ModelChoiceField(label=_("Pool (default: the team's pool)"), required=False,
                                  queryset=Pool.objects.all())

    def __init__(self, *args, owner_choices=(), teams=None, unknown=None, value_choices=None, **kwargs):
        """`owner_choices`: the importer's assignable users (for a <select>); `teams`: the teams within
        their scope (the service checks both again); `unknown`: the check's picklist words no list has
        ({field: [[word, rows], ...]}), a choice for each, initially `value_choices`' or the default."""
        super().__init__(*args, **kwargs)
        self.owner_choices = owner_choices
        self.unknown_words = []  # (field key, word, form field name)
        for field, words in (unknown or {}).items():
            if field not in BY_KEY:
                continue
            options = values.options_of(field)
            decided = (value_choices or {}).get(field, {})
            for n, (word, rows) in enumerate(words):
                name = f"value_{field}_{n}"
                initial = decided.get(word, values.default_choice(field))
                self.fields[name] = forms.ChoiceField(label=word, choices=options, initial=initial, required=False)
                self.fields[name].rows = rows
                self.unknown_words.append((field, word, name))
        if teams is not None:
            self.fields["team"].queryset = teams
        self.fields["default_owner"].choices = [("", "---------")] + [
            (pk, name) for _group, people in owner_choices for pk, name in people]

    def unknown_groups(self):
        """[(field label, [(bound field, rows)])] for the page: a block per field, a line per word."""
        groups = {}
        for field, _word, name in self.unknown_words:
            groups.setdefault(field, []).append((self[name], self.fields[name].rows))
        return [(BY_KEY[field].label, lines) for field, lines in groups.items()]

    def value_choices(self):
        """{field: {word: choice}} as chosen (after is_valid())."""
        chosen = {}
        for field, word, name in self.unknown_words:
            if self.cleaned_data.get(name):
                chosen.setdefault(field, {})[word] = self.cleaned_data[name]
        return chosen

    def clean(self):
        data = super().clean()
        if data.get("unknown_owner") == ImportBatch.UnknownOwner.DEFAULT and not data.get("default_owner"):
            self.add_error("default_owner", _("Choose the owner for customers without a known owner."))
        return data


class ImportUndoForm(forms.Form):
    include_edited = forms.BooleanField(label=_("Undo the customers edited since too"), required=False)
