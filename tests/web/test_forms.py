"""The request kit's form helpers and the translated message of a refusal."""

from starlette.datastructures import FormData, UploadFile

from tongban.core.errors import Invalid
from tongban.core.i18n import set_locale
from tongban.webkit.forms import form_text


def test_form_text_trims_and_says_none_for_blank_missing_or_an_upload() -> None:
    upload = UploadFile(file=None, filename="a.pdf")  # type: ignore[arg-type]
    form = FormData([("name", "  张三 "), ("blank", "   "), ("file", upload)])
    assert form_text(form, "name") == "张三"
    assert form_text(form, "blank") is None
    assert form_text(form, "missing") is None
    assert form_text(form, "file") is None


def test_a_refusal_is_translated_with_its_parameters() -> None:
    exc = Invalid("%(days)s days", field="days", days=3)
    set_locale("zh_CN")
    assert exc.translated() == "3天"
    set_locale("en")
    assert exc.translated() == "3 days"
    set_locale("zh_CN")
