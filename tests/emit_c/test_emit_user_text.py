"""The one place user text becomes generated source (aotsym/emit_c/templates.py): C comments,
C string literals, Python identifiers."""

import keyword

import pytest

from aotsym.emit_c.templates import c_comment, c_string, c_text, py_identifier, py_identifiers

HOSTILE = ['*/ __attribute__((constructor)) void f(void) {} /*', "a\nb\r\\", "x\0y", "**/*/",
           "é ✓ \udcff", "??/", '"""{{ x }}', "end\\", "/"]


@pytest.mark.parametrize("text", HOSTILE)
def test_c_comment_cannot_end_the_comment(text):
    out = c_comment(text)
    assert "*/" not in out and "/*" not in out and "??" not in out
    assert out.isascii() and all(" " <= ch < "\x7f" for ch in out)
    assert not out.endswith("\\")
    assert ("/* " + out + " */").count("*/") == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_c_string_is_one_literal(text):
    out = c_string(text)
    assert out.startswith('"') and out.endswith('"') and out.isascii()
    body = out[1:-1]
    assert "\n" not in body and "??" not in body
    # every quote in the body is escaped
    assert all(body[k - 1] == "\\" for k, ch in enumerate(body) if ch == '"')
    assert "\0" not in c_text(text)


def test_identifiers():
    assert py_identifier("train", "f") == "train"
    for bad in ("input x", "lambda", "1x", "__init__", "ﬁ", "", None, "a\0"):
        with pytest.raises(ValueError, match="not a valid Python identifier"):
            py_identifier(bad, "f")
    names = py_identifiers(["input x", "x", "x", "lambda", "w", "", "1a", "é", "__x"],
                           reserved={"w"})
    assert names == ["input_x", "x", "x_2", "lambda_", "w_", "arg5", "_1a", "é", "_x"]
    assert py_identifiers(["é"], ascii=True) == ["_"]
    assert all(n.isidentifier() and not keyword.iskeyword(n) for n in names)
    assert len(set(names)) == len(names)
