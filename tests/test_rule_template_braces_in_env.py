"""MFK208 template-braces-in-env."""

import pytest
from conftest import codes, lint

POSITIVE = {
    "%-inserted JSON, then str.format": """
        import json
        def script(configs, step):
            text = "export METAFLOW_FLOW_CONFIG_VALUE='%s'\\npython flow.py step {step}" % (
                json.dumps(configs)
            )
            return text.format(step=step)
    """,
    "concatenated config value, then str.format on the expression": """
        def script(flow_config_value, flow_file):
            return ("export METAFLOW_FLOW_CONFIG_VALUE='" + flow_config_value + "'\\n"
                    "python {flow} step start").format(flow=flow_file)
    """,
    "placeholder replaced by JSON, then format": """
        import json
        TEMPLATE = "export CFG='@CFG@'\\npython {flow} step {step}"
        def script(cfg, flow, step):
            body = TEMPLATE.replace("@CFG@", json.dumps(cfg))
            return body.format(flow=flow, step=step)
    """,
    "Pebble markers in a Kestra task, config value pasted raw": """
        def task_yaml(self, step):
            return (
                "- id: %s\\n"
                "  env:\\n"
                "    METAFLOW_FLOW_CONFIG_VALUE: '%s'\\n"
                "    RUN_ID: '{{ outputs.init.vars.run_id }}'\\n" % (step, self._flow_config_value)
            )
    """,
    "Jinja template from an f-string, JSON from a helper": """
        import json
        class Compiler:
            def __init__(self, flow):
                self._cfg = self._extract(flow)
            @staticmethod
            def _extract(flow):
                try:
                    return json.dumps(flow.configs)
                except Exception:
                    return None
            def bash_command(self):
                return f"export CFG='{self._cfg}' && python flow.py step start --run-id {{{{ run_id }}}}"
    """,
    "format argument into a template whose result holds Airflow markers": """
        import json
        def bash(cfg):
            return "export CFG='{cfg}'; echo {{{{ ti.try_number }}}}".format(cfg=json.dumps(cfg))
    """,
}

NEGATIVE = {
    "braces doubled before formatting": """
        import json
        def script(cfg, step):
            text = "export CFG='%s'\\npython flow.py step {step}" % json.dumps(cfg).replace(
                "{", "{{").replace("}", "}}")
            return text.format(step=step)
    """,
    "base64 into a Pebble template": """
        import base64, json
        def task(cfg):
            value = base64.b64encode(json.dumps(cfg).encode()).decode()
            return "CFG_B64: '%s'\\nRUN: '{{ execution.id }}'" % value
    """,
    "JSON into a plain YAML line without markers (kestra input defaults)": """
        import json
        def inputs(default):
            return "    defaults: %s" % json.dumps(default)
    """,
    "str.format escapes that are not markers after formatting": '''
        import json
        def script(cfg):
            return """RETRY="${{WM_RETRY:-0}}"\\nexport CFG='{cfg}'""".format(cfg=json.dumps(cfg))
    ''',
}


@pytest.mark.parametrize("code", POSITIVE.values(), ids=POSITIVE.keys())
def test_reports(code):
    assert codes(code, "MFK208") == ["MFK208"]


@pytest.mark.parametrize("code", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_silent(code):
    assert codes(code, "MFK208") == []


def test_format_message_names_the_format_call():
    (diag,) = lint(POSITIVE["%-inserted JSON, then str.format"], "MFK208")
    assert (diag.location.row, diag.location.column) == (5, 9)
    assert "line 7" in diag.message and "KeyError" in diag.message


def test_engine_message_names_the_markers():
    (diag,) = lint(POSITIVE["Pebble markers in a Kestra task, config value pasted raw"], "MFK208")
    assert "{{" in diag.message and "base64" in diag.message
