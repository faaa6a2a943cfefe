from __future__ import annotations

import threading

import pytest

from butido_py.errors import ScriptError
from butido_py.script import render_template
from butido_py.script.template import strip_standalone

CONTEXT: dict[str, object] = {
    "name": "zlib",
    "version": "1.3.1",
    "version_is_semver": False,
    "patches": ["libs/zlib/a.patch", "libs/zlib/b.patch"],
    "empty": [],
    "count": 7,
    "sources": {"src": {"url": "https://example.com/", "hash": {"type": "sha256"}}},
    "nothing": None,
}


def render(template: str, *, strict: bool = True) -> str:
    return render_template(template, CONTEXT, strict=strict)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{phase "build"}}', "echo '#BUTIDO:PHASE:build'"),
        ('{{state "OK"}}', "echo '#BUTIDO:STATE:OK'"),
        ('{{state "OK" "ignored"}}', "echo '#BUTIDO:STATE:OK'"),
        ('{{state "ERR" "Missing input"}}', "echo '#BUTIDO:STATE:ERR:Missing input'"),
        ('{{state "ERR" name}}', "echo '#BUTIDO:STATE:ERR:zlib'"),
        ('{{state "ERR" 5}}', "echo '#BUTIDO:STATE:ERR:5'"),
        ("{{progress 50}}", "echo '#BUTIDO:PROGRESS:50'"),
        ("{{progress 0}}", "echo '#BUTIDO:PROGRESS:0'"),
        ("{{progress count}}", "echo '#BUTIDO:PROGRESS:7'"),
        ('{{join "a" "b" "c"}}', "abc"),
        ("{{join name version}}", "zlib1.3.1"),
        ("{{join}}", ""),
        ('{{joinwith ", " "a" "b"}}', "a, b"),
        ('{{joinwith "-" this.name this.version}}', "zlib-1.3.1"),
        ('{{joinwith "-"}}', ""),
    ],
)
def test_helper_output_is_byte_exact(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{phase}}", "required parameter missing: phase name"),
        ("{{phase 1}}", "must be a string: phase name"),
        ("{{state}}", "required parameter missing: state"),
        ('{{state "ERR"}}', "required parameter missing: state message"),
        ('{{state "WARN"}}', "either 'OK' or 'ERR', 'WARN' is invalid"),
        ("{{progress}}", "required parameter missing: progress"),
        ('{{progress "50"}}', "must be a number: progress"),
        ("{{progress true}}", "must be a number: progress"),
        ('{{join "a" 1}}', "all parameters must be strings"),
        ('{{joinwith 1 "a"}}', "must be a string: join string"),
        ('{{joinwith "," "a" count}}', "all parameters must be strings"),
        ("{{phase this.nope}}", "missing variable `this.nope`"),
    ],
)
def test_helper_errors(template: str, message: str) -> None:
    for strict in (True, False):
        with pytest.raises(ScriptError, match=message.replace("(", r"\(")):
            render(template, strict=strict)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{this.patches[0]}}", "libs/zlib/a.patch"),
        ("{{this.patches.[1]}}", "libs/zlib/b.patch"),
        ("{{patches[1]}}", "libs/zlib/b.patch"),
        ("{{#if this.patches[0]}}yes{{else}}no{{/if}}", "yes"),
        ("{{#if this.patches.[0]}}yes{{else}}no{{/if}}", "yes"),
        ("{{#if this.empty[0]}}yes{{else}}no{{/if}}", "no"),
        ("{{#if this.empty.[0]}}yes{{else}}no{{/if}}", "no"),
        ("{{#unless this.empty[0]}}none{{/unless}}", "none"),
        ("{{#each this.empty}}x{{else}}empty{{/each}}", "empty"),
        ("{{#each this.environment}}x{{/each}}", ""),
        ("{{#if this.meta.owner}}x{{/if}}", ""),
        ("{{this.patches.length}}", "2"),
    ],
)
def test_index_syntaxes_on_filled_and_empty_arrays(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "variable"),
    [
        ("{{this.empty[0]}}", "this.empty[0]"),
        ("{{this.empty.[0]}}", "this.empty[0]"),
        ("{{this.patches[5]}}", "this.patches[5]"),
        ("{{environment}}", "environment"),
        ("{{this.meta.owner}}", "this.meta.owner"),
        ("{{this.sources.src.hash.hash}}", "this.sources.src.hash.hash"),
        ("{{#each patches}}{{this.name}}{{/each}}", "this.name"),
    ],
)
def test_strict_mode_names_the_missing_variable(template: str, variable: str) -> None:
    with pytest.raises(ScriptError, match=f"variable `{variable}` not found".replace("[", r"\[")):
        render(template)
    assert render(template, strict=False) == ""


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{name}}-{{this.version}}", "zlib-1.3.1"),
        ("{{version_is_semver}}", "false"),
        ("{{count}}", "7"),
        ("{{nothing}}", ""),  # JSON null exists: no strict-mode error
        ("{{patches}}", "[libs/zlib/a.patch, libs/zlib/b.patch]"),
        ("{{sources}}", "[object]"),
        (
            "{{#each patches}}{{@index}}:{{this}} {{/each}}",
            "0:libs/zlib/a.patch 1:libs/zlib/b.patch ",
        ),
        ("{{#each sources}}{{@key}}={{this.url}}{{/each}}", "src=https://example.com/"),
        ("{{#with sources.src}}{{hash.type}}{{/with}}", "sha256"),
        ("<a href=\"x\">&'{{name}}'</a>", "<a href=\"x\">&'zlib'</a>"),
        ('{{join "<&>" "\\""}}', '<&>"'),
        ("{{{name}}} {{&name}}", "zlib zlib"),
        ("{{! a comment }}x", "x"),
    ],
)
def test_values_render_like_handlebars_rust_without_html_escaping(
    template: str, expected: str
) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # block tags alone on their line leave no trace, indentation included
        ("a\n    {{#if name}}\n    b\n    {{/if}}\nc\n", "a\n    b\nc\n"),
        (
            "a\n{{#each patches}}\n- {{this}}\n{{/each}}\nz",
            "a\n- libs/zlib/a.patch\n- libs/zlib/b.patch\nz",
        ),
        ("{{#if empty}}\nyes\n{{else}}\nno\n{{/if}}\n", "no\n"),
        ("x\n  {{! comment }}  \ny\n", "x\ny\n"),
        # a tag that shares its line with text is not standalone
        ("a {{#if name}}b{{/if}}\nc\n", "a b\nc\n"),
        ("{{#if name}} x\n{{/if}}", " x\n"),
        # output expressions alone on a line keep their line break
        ("{{name}}\n{{version}}\n", "zlib\n1.3.1\n"),
        # whitespace control
        ("a   {{~name~}}   b", "azlibb"),
        ("a\n\n{{~#if name~}}\n\nb{{/if}}", "ab"),
        ("x\r\n  {{#if name}}\r\ny\r\n  {{/if}}\r\n", "x\r\ny\r\n"),
    ],
)
def test_standalone_lines_and_whitespace_control(template: str, expected: str) -> None:
    assert render(template) == expected


def test_strip_standalone_keeps_other_lines() -> None:
    assert strip_standalone("  {{#if a}}  \n  text\n") == "{{#if a}}  text\n"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("a\n{{#if name}}\nb\n", r"\{\{#if\}\} of line 2 is not closed"),
        ("a\nb {{/if}}", r"line 2: \{\{/if\}\} closes no block"),
        ("{{#each patches}}\n{{/if}}", r"line 2: \{\{/if\}\} closes \{\{#each\}\} of line 1"),
        ("{{name", "template syntax error"),
    ],
)
def test_syntax_errors_name_the_line(template: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        render(template)


def test_strict_and_lenient_renders_of_one_template_do_not_interfere() -> None:
    template = "{{name}}{{this.missing}}"
    assert render(template, strict=False) == "zlib"
    with pytest.raises(ScriptError):
        render(template, strict=True)
    assert render(template, strict=False) == "zlib"


def test_rendering_is_thread_safe() -> None:
    templates = [
        f"{{{{name}}}} {index} {{{{#each patches}}}}{{{{this}}}}{{{{/each}}}}"
        for index in range(20)
    ]
    results: dict[int, str] = {}

    def work(index: int) -> None:
        results[index] = render(templates[index])

    threads = [threading.Thread(target=work, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {
        index: f"zlib {index} libs/zlib/a.patchlibs/zlib/b.patch" for index in range(20)
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{#if (eq name "zlib")}}yes{{else}}no{{/if}}', "yes"),
        ('{{#if (ne name "zlib")}}yes{{else}}no{{/if}}', "no"),
        ("{{eq count 7}} {{eq count '7'}} {{ne count 8}}", "true false true"),
        ("{{gt count 6}} {{gte count 7}} {{lt count 7}} {{lte count 7}}", "true true false true"),
        (
            "{{and name count}} {{and name empty}} {{or empty count}} {{not empty}}",
            "true false true true",
        ),
        ("{{len patches}} {{len name}} {{len sources}} {{len count}}", "2 4 1 0"),
        ("{{#if (and (gt count 1) (len patches))}}both{{/if}}", "both"),
        ("{{#if (eq this.meta.owner null)}}unset{{/if}}", "unset"),
    ],
)
def test_handlebars_rust_builtin_helpers(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{gt count "1"}}', "helper gt: parameters must be integers"),
        ("{{eq count}}", "helper eq: two parameters required"),
        ("{{#if (nosuchhelper name)}}x{{/if}}", "nosuchhelper"),
        ('{{stat "OK"}}', "helper not defined: `stat`"),
    ],
)
def test_builtin_helper_errors(template: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        render(template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Spaces between `{{`, `~`, the block sigil and `}}` (butido's default format has them).
        ("a\n{{~ #if x}}Y{{/if}}", "aY"),
        ("{{ #if x }}Y{{ /if }}", "Y"),
        ("{{#if x}}Y{{/if~}}  \nb", "Yb"),
        ("{{#if x}}a{{ else }}b{{/if}}", "a"),
        ("{{#if x ~}}  Y  {{~ /if}}", "Y"),
        ("{{~ this.x}}", "true"),
    ],
)
def test_whitespace_control_with_spaces(template: str, expected: str) -> None:
    assert render_template(template, {"x": True}, strict=True) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{#each xs as |v|}}{{v}},{{/each}}", "a,b,"),
        ("{{#each xs as |v i|}}{{i}}={{v}},{{/each}}", "0=a,1=b,"),
        ("{{#each m as |v k|}}{{k}}={{v}},{{/each}}", "p=1,"),
        ("{{#each xs as |v|}}{{#each ../xs}}{{v}}{{this}} {{/each}}{{/each}}", "aa ab ba bb "),
        ("{{#each xs as |v|}}{{#if v}}{{v}}{{/if}}{{/each}}", "ab"),
        ("{{#with m as |q|}}{{q.p}}{{/with}}", "1"),
        ("{{#each xs as |v|}}{{@index}}{{v}}{{/each}}", "0a1b"),
        ("{{#each none as |v|}}{{v}}{{else}}empty{{/each}}", "empty"),
        ("{{#each xs}}{{this}}{{/each}}", "ab"),
    ],
)
def test_block_parameters(template: str, expected: str) -> None:
    context = {"xs": ["a", "b"], "m": {"p": 1}, "none": []}
    assert render_template(template, context, strict=True) == expected


def test_a_block_parameter_is_not_visible_after_its_block() -> None:
    with pytest.raises(ScriptError, match="`v` not found"):
        render_template("{{#each xs as |v|}}{{/each}}{{v}}", {"xs": [1]}, strict=True)
