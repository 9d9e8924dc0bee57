"""The filters' <option> tags (core/templatetags/zx_options.py): escaped, the chosen one selected."""

from django.template import Context, Template


def render(source: str, **context) -> str:
    return Template("{% load zx_options %}" + source).render(Context(context))


def test_area_options_escape_indent_and_select_one():
    options = [{"code": "110101", "name": "东城区", "indent": ""},
               {"code": "110101001", "name": "<b>东华门</b>", "indent": "\u3000"}]
    html = render("{% area_options options selected %}", options=options, selected="110101001")
    assert html == ('<option value="110101">东城区</option>'
                    '<option value="110101001" selected>\u3000&lt;b&gt;东华门&lt;/b&gt;</option>')
    assert " selected" not in render("{% area_options options missing.code %}", options=options)


class Leaf:
    def __init__(self, code, name):
        self.code, self.name = code, name


def test_leaf_options_group_escape_and_select_one():
    groups = [{"label": '物业 › "服务"', "leaves": [Leaf("040101", "电梯故障"), Leaf("040102", "楼道卫生")]}]
    html = render("{% leaf_options groups chosen %}", groups=groups, chosen="040102")
    assert html == ('<optgroup label="物业 › &quot;服务&quot;"><option value="040101">电梯故障</option>'
                    '<option value="040102" selected>楼道卫生</option></optgroup>')
    assert render("{% leaf_options groups None %}", groups=[]) == ""
