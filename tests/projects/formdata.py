"""Read a form out of a rendered page the way a browser would submit it (no JavaScript)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_first: str | None = None
        self._option_value: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
            return
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
                return
            self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._select_value, self._select_first = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._select_first
            self._add(self._select, value or "")
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, self._text.lstrip("\n"))
            self._textarea = None


def form_data(html: str, changes: dict | None = None, form_id: str = "entry-form") -> dict:
    """The submitted values of form `form_id`, with `changes` applied (a None value removes a field)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    data: dict = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    for key, value in (changes or {}).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown under the field whose wrapper carries data-field="<field>"."""
    import re

    match = re.search(rf'<div class="field[^"]*has-error[^"]*" data-field="{re.escape(field)}">', html)
    if not match:
        return []
    rest = html[match.end() :]
    following = re.search(r'data-field="|</fieldset>', rest)
    block = rest[: following.start()] if following else rest
    return [
        m
        for ul in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', block, re.S)
        for m in re.findall(r"<li>(.*?)</li>", ul, re.S)
    ]
